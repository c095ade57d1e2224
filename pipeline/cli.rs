//! Command-line flags, and nothing else: `config.rs` turns them into checked settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "spacescribe",
    version = crate::build_info::VERSION_LINE,
    about = "Speaker-labelled, timestamped transcripts of long conversations, and who dominated them"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Transcribe one or more recordings (wav, mp3, m4a/mp4, aac, flac, ogg, ...).
    Transcribe(Box<TranscribeArgs>),
    /// Transcribe from a microphone as people talk (or a file fed at real-time pace).
    Live(Box<LiveArgs>),
    /// Regenerate every output of a run from its (perhaps edited) .json, without re-transcribing.
    Rebuild(RebuildArgs),
    /// Check and correct a run in the browser: play the audio, fix speakers and words.
    Review(ReviewArgs),
    /// Speaking-time statistics (stats.json or .csv to standard output) of any
    /// diarization given as RTTM: a reference, another tool's output, an edited file.
    Stats(StatsArgs),
    /// Show or manage the installed models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelsAction {
    /// List the models spacescribe can use and where they are.
    List,
    /// What whisper.cpp was built to use on this CPU (its system info line): benchmarks
    /// print it beside the CPU's SIMD flags.
    SystemInfo,
}

#[derive(Args, Debug, Clone)]
pub struct TranscribeArgs {
    /// Audio files, folders (every audio file under them, recursively), `-` for standard
    /// input, or http(s) URLs (an audio file streamed, or an HLS playlist .m3u8).
    #[arg(required_unless_present = "list")]
    pub inputs: Vec<PathBuf>,

    /// Also transcribe the paths listed in this file, one per line (# starts a comment).
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,

    /// Outputs of listed or single files mirror their path below this folder, as folder
    /// inputs do (IN/a/x.m4a -> OUT/a/x.json).
    #[arg(long, value_name = "DIR")]
    pub tree_root: Option<PathBuf>,

    /// Transcribe again inputs whose outputs are up to date (default: skip them).
    #[arg(long)]
    pub force: bool,

    /// Stem of the output files (default: the file's or URL's name, `stdin` for `-`).
    #[arg(long)]
    pub name: Option<String>,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// Directory for the output files (named after each input's stem).
    #[arg(long, short, default_value = ".")]
    pub out: PathBuf,

    /// Output formats, comma separated: txt,srt,vtt,json,rttm,stats.json,stats.csv,html,docx or all.
    #[arg(long, default_value = "all")]
    pub formats: String,

    /// Put a compact copy of the recording (Opus, ffmpeg) inside the HTML report, so its
    /// player works wherever the report goes; without it the report links the input.
    #[arg(long)]
    pub embed_audio: bool,

    /// Do not print the progress bar.
    #[arg(long, short)]
    pub quiet: bool,

    #[command(flatten)]
    pub speakers: SpeakerArgs,
}

/// Diarization flags shared by `transcribe` and `live`.
#[derive(Args, Debug, Clone)]
pub struct SpeakerArgs {
    /// Plain transcription: no speaker labels, statistics or report.
    #[arg(long)]
    pub no_diarize: bool,

    /// Exact number of speakers, when known.
    #[arg(long, conflicts_with_all = ["min_speakers", "max_speakers"])]
    pub speakers: Option<usize>,

    /// Fewest speakers to consider when counting them automatically.
    #[arg(long, default_value_t = 1)]
    pub min_speakers: usize,

    /// Most speakers to consider when counting them automatically [default: 25, or
    /// --min-speakers when that is more].
    #[arg(long)]
    pub max_speakers: Option<usize>,

    /// Name the speaker whose voice matches a reference clip: NAME=clip.wav (repeatable).
    #[arg(long, value_name = "NAME=CLIP")]
    pub enroll: Vec<String>,

    /// Rename a speaker in every output: SPEAKER_00=NAME (repeatable).
    #[arg(long, value_name = "LABEL=NAME")]
    pub rename: Vec<String>,
}

impl SpeakerArgs {
    /// The most speakers counted: `--max-speakers`, else the default raised to
    /// `--min-speakers` (asking for at least 30 people must not need a second flag).
    pub fn speaker_cap(&self) -> usize {
        self.max_speakers
            .unwrap_or(crate::diarize::cluster::DEFAULT_MAX_SPEAKERS.max(self.min_speakers))
    }
}

#[derive(Args, Debug, Clone)]
pub struct RebuildArgs {
    /// The run's .json (as transcribe wrote it, or edited by a person or a script).
    pub run: PathBuf,

    /// Directory for the outputs (default: the folder the .json is in).
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Output formats, as for transcribe (default: the ones the run wrote).
    #[arg(long)]
    pub formats: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct StatsArgs {
    /// The RTTM file (one SPEAKER line per stretch of speech).
    pub rttm: PathBuf,

    /// Length of the recording in seconds, for silence (default: the last turn's end).
    #[arg(long)]
    pub duration: Option<f64>,

    /// Write CSV (one row per speaker) instead of JSON.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ReviewArgs {
    /// A finished run's .json, or its output folder when it holds one run.
    pub run: PathBuf,

    /// The recording, when it is no longer where the run found it.
    #[arg(long)]
    pub audio: Option<PathBuf>,

    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8750)]
    pub port: u16,

    /// Address to listen on; other machines can reach the page only if you change it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Do not open the page in a browser.
    #[arg(long)]
    pub no_open: bool,
}

#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// Capture from this input device (see --list-devices) instead of the default.
    #[arg(long)]
    pub device: Option<String>,

    /// List the audio input devices and exit.
    #[arg(long)]
    pub list_devices: bool,

    /// Stop after this many seconds of audio.
    #[arg(long)]
    pub duration: Option<f64>,

    /// Feed this file through the live path at real-time pace instead of a microphone.
    #[arg(long)]
    pub input_file: Option<PathBuf>,

    /// With --input-file: feed faster than real time by this factor (tests).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,

    /// Follow a live (or finished) HLS stream: the URL of its .m3u8 playlist.
    #[arg(long, conflicts_with_all = ["device", "input_file"])]
    pub url: Option<String>,

    /// Stem of the session's files (default: live-<time>, <file>-live or <url name>-live).
    #[arg(long)]
    pub name: Option<String>,

    /// Also show the running board on a web page at this port (0 picks a free one).
    #[arg(long, value_name = "PORT")]
    pub serve: Option<u16>,

    /// Address for --serve; other machines can reach the page only if you change it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// Directory for the session's files (transcripts, report, the recording as WAV).
    #[arg(long, short, default_value = ".")]
    pub out: PathBuf,

    /// Output formats, as for transcribe.
    #[arg(long, default_value = "all")]
    pub formats: String,

    #[command(flatten)]
    pub speakers: SpeakerArgs,
}

/// Flags shared by `transcribe` and `live`.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Whisper model: a name (tiny.en, base, ...) or the path of a ggml .bin file.
    #[arg(long, short, default_value = crate::models::DEFAULT_WHISPER_MODEL)]
    pub model: String,

    /// Spoken language: auto, en, de, fr, ... (auto detects it, and follows a recording
    /// that changes language part-way, chunk by chunk).
    #[arg(long, short, default_value = "auto")]
    pub language: String,

    /// Total CPU threads to use (default: all cores).
    #[arg(long, short)]
    pub threads: Option<usize>,

    /// Beam width; 1 means greedy decoding.
    #[arg(long, default_value_t = 1)]
    pub beam_size: usize,

    /// Use a GPU: auto (when built with CUDA and a device exists), on, off.
    #[arg(long, value_enum, default_value_t = GpuFlag::Auto)]
    pub gpu: GpuFlag,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuFlag {
    Auto,
    On,
    Off,
}
