use anyhow::Result;

use crate::cli::ModelsAction;

pub fn run(action: &ModelsAction) -> Result<usize> {
    match action {
        ModelsAction::List => {
            for line in crate::models::list_models() {
                println!("{line}");
            }
            Ok(0)
        }
        ModelsAction::SystemInfo => {
            println!("whisper.cpp: {}", whisper_rs::print_system_info().trim());
            Ok(0)
        }
    }
}
