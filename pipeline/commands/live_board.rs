//! `live`'s running board: printed on the terminal every few seconds (when stderr is a
//! terminal, so piped output stays the transcript alone) and, with `--serve PORT`, served
//! as a self-updating page on its own thread through the shared web stack.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::watch;

use crate::board::Board;
use crate::cli::LiveArgs;
use crate::gaps::{describe, Gap};
use crate::source::hls::follow::StreamLog;

/// How often the terminal view is printed.
const TERMINAL_EVERY: Duration = Duration::from_secs(5);

pub struct LiveBoard {
    board: Board,
    terminal: bool,
    last_print: Instant,
    web: Option<(watch::Sender<String>, Arc<AtomicBool>)>,
}

impl LiveBoard {
    /// The board, and its web page when `--serve` asks (bound now, so a busy port fails
    /// before any audio is read).
    pub fn start(args: &LiveArgs) -> Result<Self> {
        let web = match args.serve {
            None => None,
            Some(port) => {
                let listener = crate::web::bind(&args.host, port, "pick another --serve port")?;
                eprintln!("board: http://{}/", listener.local_addr()?);
                let (tx, rx) = watch::channel(Board::default().snapshot().to_string());
                let stop = Arc::new(AtomicBool::new(false));
                let server_stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    if let Err(e) =
                        crate::web::serve(crate::board::web::router(rx), listener, server_stop)
                    {
                        eprintln!("warning: the board's web page stopped: {e:#}");
                    }
                });
                Some((tx, stop))
            }
        };
        Ok(Self {
            board: Board::default(),
            terminal: std::io::stderr().is_terminal(),
            last_print: Instant::now(),
            web,
        })
    }

    /// A finished utterance (stream-clock times), and the gaps known so far.
    pub fn update(
        &mut self,
        speaker: Option<usize>,
        speech: &[(f64, f64)],
        lines: &[String],
        gaps: Vec<Gap>,
    ) {
        self.board.utterance(speaker, speech, lines);
        self.board.set_gaps(gaps);
        if self.terminal && self.last_print.elapsed() >= TERMINAL_EVERY {
            eprint!("{}", self.board.render_terminal());
            self.last_print = Instant::now();
        }
        if let Some((tx, _)) = &self.web {
            tx.send_replace(self.board.snapshot().to_string());
        }
    }

    /// The final view on the terminal; the page's server stops.
    pub fn finish(&mut self) {
        if self.terminal {
            eprint!("{}", self.board.render_terminal());
        }
        if let Some((_, stop)) = &self.web {
            stop.store(true, Ordering::SeqCst);
        }
    }
}

/// "stream: 75 segments fetched, 1 lost; audio missing 00:00:40-00:00:44 (4.0 s)".
pub fn stream_summary(log: &StreamLog) -> String {
    let mut s = format!(
        "stream: {} segments fetched, {} lost",
        log.fetched, log.lost
    );
    let gaps = log.clock.gaps();
    if !gaps.is_empty() {
        s += "; audio missing ";
        s += &gaps.iter().map(describe).collect::<Vec<_>>().join(", ");
    }
    if let Some(why) = &log.ended_early {
        s += &format!("; {why}");
    }
    s
}
