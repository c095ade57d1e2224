//! MPEG-TS segments (mpeg2ts-reader): the payload of the first audio stream's PES packets,
//! which for HLS audio is an ADTS AAC (or MP3) elementary stream symphonia decodes.

use mpeg2ts_reader::demultiplex::{self, DemuxContext, FilterChangeset, FilterRequest};
use mpeg2ts_reader::{packet_filter_switch, pes, psi, StreamType};

/// What the audio stream in a transport stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsAudio {
    Adts,
    Mpeg,
}

impl TsAudio {
    /// The extension symphonia's probe expects for the elementary stream.
    pub fn extension(self) -> &'static str {
        match self {
            TsAudio::Adts => "aac",
            TsAudio::Mpeg => "mp3",
        }
    }
}

packet_filter_switch! {
    TsFilter<TsContext> {
        Pes: pes::PesPacketFilter<TsContext, AudioConsumer>,
        Pat: demultiplex::PatPacketFilter<TsContext>,
        Pmt: demultiplex::PmtPacketFilter<TsContext>,
        Null: demultiplex::NullPacketFilter<TsContext>,
    }
}

pub struct TsContext {
    changeset: FilterChangeset<TsFilter>,
    /// The audio stream chosen (the first one the PMT lists).
    audio: Option<(u16, TsAudio)>,
    payload: Vec<u8>,
}

impl DemuxContext for TsContext {
    type F = TsFilter;

    fn filter_changeset(&mut self) -> &mut FilterChangeset<Self::F> {
        &mut self.changeset
    }

    fn construct(&mut self, req: FilterRequest<'_, '_>) -> Self::F {
        match req {
            FilterRequest::ByPid(psi::pat::PAT_PID) => {
                TsFilter::Pat(demultiplex::PatPacketFilter::default())
            }
            FilterRequest::ByPid(_) | FilterRequest::Nit { .. } => {
                TsFilter::Null(demultiplex::NullPacketFilter::default())
            }
            FilterRequest::Pmt {
                pid,
                program_number,
            } => TsFilter::Pmt(demultiplex::PmtPacketFilter::new(pid, program_number)),
            FilterRequest::ByStream {
                stream_type,
                stream_info,
                ..
            } => {
                let kind = match stream_type {
                    StreamType::ADTS => Some(TsAudio::Adts),
                    StreamType::ISO_11172_AUDIO | StreamType::ISO_138183_AUDIO => {
                        Some(TsAudio::Mpeg)
                    }
                    _ => None,
                };
                let pid = u16::from(stream_info.elementary_pid());
                match kind {
                    Some(kind) if self.audio.is_none_or(|(p, _)| p == pid) => {
                        self.audio = Some((pid, kind));
                        TsFilter::Pes(pes::PesPacketFilter::new(AudioConsumer))
                    }
                    _ => TsFilter::Null(demultiplex::NullPacketFilter::default()),
                }
            }
        }
    }
}

pub struct AudioConsumer;

impl pes::ElementaryStreamConsumer<TsContext> for AudioConsumer {
    fn start_stream(&mut self, _ctx: &mut TsContext) {}
    fn begin_packet(&mut self, ctx: &mut TsContext, header: pes::PesHeader<'_>) {
        match header.contents() {
            pes::PesContents::Parsed(Some(parsed)) => {
                ctx.payload.extend_from_slice(parsed.payload())
            }
            pes::PesContents::Parsed(None) => {}
            pes::PesContents::Payload(payload) => ctx.payload.extend_from_slice(payload),
        }
    }
    fn continue_packet(&mut self, ctx: &mut TsContext, data: &[u8]) {
        ctx.payload.extend_from_slice(data);
    }
    fn end_packet(&mut self, _ctx: &mut TsContext) {}
    fn continuity_error(&mut self, _ctx: &mut TsContext) {}
}

/// The audio elementary stream inside one transport-stream segment.
pub fn audio_payload(segment: &[u8]) -> anyhow::Result<(Vec<u8>, TsAudio)> {
    let mut ctx = TsContext {
        changeset: FilterChangeset::default(),
        audio: None,
        payload: Vec::new(),
    };
    let mut demux = demultiplex::Demultiplex::new(&mut ctx);
    demux.push(&mut ctx, segment);
    match ctx.audio {
        Some((_, kind)) => Ok((ctx.payload, kind)),
        None => anyhow::bail!("the MPEG-TS segment has no AAC or MP3 audio stream"),
    }
}

/// A transport stream starts with sync bytes every 188 bytes.
pub fn looks_like_ts(bytes: &[u8]) -> bool {
    bytes.len() >= 188 * 2 && bytes[0] == 0x47 && bytes[188] == 0x47
}
