//! Corrections to a finished run: the edits themselves (`ops`), and the history that
//! undoes and redoes them (`history`). `review` and `rebuild` apply them to a
//! [`RunDocument`](crate::document::RunDocument) and regenerate the outputs through the
//! same writers `transcribe` uses.

pub mod history;
pub mod ops;

use crate::document::RunDocument;
use history::Patch;
use ops::{apply_edit, Edit};

impl RunDocument {
    /// Apply one correction, record it in the history and count a new revision.
    pub fn edit(&mut self, edit: &Edit) -> Result<(), String> {
        let before = self.transcript.clone();
        let label = apply_edit(&mut self.transcript, edit)?;
        self.history
            .push(Patch::between(label, &before, &self.transcript));
        self.revision += 1;
        Ok(())
    }

    pub fn undo(&mut self) -> Result<(), String> {
        self.history.undo(&mut self.transcript)?;
        self.revision += 1;
        Ok(())
    }

    pub fn redo(&mut self) -> Result<(), String> {
        self.history.redo(&mut self.transcript)?;
        self.revision += 1;
        Ok(())
    }
}
