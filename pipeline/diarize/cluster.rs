//! Speaker clustering: 3D-Speaker's spectral clustering as senko 0.2.2 runs it (our peer):
//! cosine affinities, p-pruning (keep each row's strongest 1.2%, at least 6), unnormalised
//! Laplacian, eigengap for the speaker count, k-means on the leading eigenvectors; then
//! tiny clusters (< 4 windows) join their nearest large cluster and clusters whose centroids
//! are more than 0.8 cosine-similar merge. Spectral clustering suits 2-10 speakers with
//! unequal talk time better than a fixed agglomerative threshold: the count comes from the
//! affinity structure, not from a distance tuned on one kind of audio.

use super::dot;
use nalgebra::{DMatrix, SymmetricEigen};

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Exact number of speakers when the user knows it.
    pub num_speakers: Option<usize>,
    pub min_speakers: usize,
    pub max_speakers: usize,
}

/// Most speakers counted when the user gives no bound. A two-hour Space can hear more
/// than ten people (a stage holds thirteen at once, and speakers come and go): 23 voices
/// run together, capped at ten, came out as 9 speakers with 53% DER, and as 18 with 15%
/// under this cap. The final count comes from merging and absorbing the spectral step's
/// clusters, so a higher cap changed no sample's figures (README, "Accuracy").
pub const DEFAULT_MAX_SPEAKERS: usize = 25;

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            num_speakers: None,
            min_speakers: 1,
            max_speakers: DEFAULT_MAX_SPEAKERS,
        }
    }
}

/// Spectral clustering needs an n x n affinity matrix and its eigenvectors (O(n^3)); a
/// two-hour Space has ~9,600 windows. Beyond this many, cluster an evenly spaced subset
/// and give every window the nearest resulting centroid, keeping memory and time flat.
const MAX_SPECTRAL_POINTS: usize = 1500;
const PVAL: f64 = 0.012;
const MIN_PNUM: usize = 6;
const MIN_CLUSTER_SIZE: usize = 4;
/// Centroids this alike are one voice: live mode's short utterances split the interview's
/// host and producer into two clusters each at 0.85-0.86, while different voices on the
/// samples reach at most 0.61 (the real two-speaker recording).
const MERGE_COSINE: f32 = 0.8;
/// With fewer windows than this (about 7 s of speech) everything is one speaker unless
/// the user says otherwise: too little evidence to split.
const MIN_WINDOWS_TO_SPLIT: usize = 10;
/// Windows whose voices are this alike are one point to the spectral step. Audio heard
/// again (a recording looped or re-broadcast, a clip played twice) gives nearly the same
/// windows again (cosine 0.98-0.999: the window grid falls on the audio a little
/// differently each time); p-pruning keeps only each row's few strongest affinities, so
/// with six copies of every window each one's neighbours were its own copies, the graph
/// fell into pieces and the eigengap found one speaker: the 4-voice interview looped six
/// and ten times came out as one speaker. Consecutive windows of one steady voice reach
/// 0.98 too, and are one voice anyway: the samples' figures are the same with it.
const SAME_WINDOW_COSINE: f32 = 0.98;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let n = (dot(a, a) * dot(b, b)).sqrt();
    if n > 0.0 {
        dot(a, b) / n
    } else {
        0.0
    }
}

/// Cluster label per embedding; labels are 0..k in no particular order.
pub fn cluster(embeddings: &[Vec<f32>], opts: &ClusterOptions) -> Vec<usize> {
    let labels = if embeddings.len() <= MAX_SPECTRAL_POINTS {
        cluster_all(embeddings, opts)
    } else {
        let step = embeddings.len().div_ceil(MAX_SPECTRAL_POINTS);
        let subset: Vec<Vec<f32>> = embeddings.iter().step_by(step).cloned().collect();
        let labels = cluster_all(&subset, opts);
        let cents = centroids(&subset, &labels);
        let labels = embeddings
            .iter()
            .map(|e| {
                (0..cents.len())
                    .max_by(|&a, &b| cosine(e, &cents[a]).total_cmp(&cosine(e, &cents[b])))
                    .unwrap_or(0)
            })
            .collect();
        compact(labels)
    };
    if opts.num_speakers.is_some() {
        return labels;
    }
    // Every window, not only the subset's, is looked at for strangers.
    with_strangers_apart(embeddings, labels, opts.max_speakers)
}

fn cluster_all(embeddings: &[Vec<f32>], opts: &ClusterOptions) -> Vec<usize> {
    let n = embeddings.len();
    let fixed = opts.num_speakers;
    if n == 0 {
        return Vec::new();
    }
    let min_k = fixed.unwrap_or(opts.min_speakers).max(1);
    if n < MIN_WINDOWS_TO_SPLIT && fixed.is_none() && min_k <= 1 {
        return vec![0; n];
    }
    let (distinct, of) = distinct_windows(embeddings);
    let points: Vec<Vec<f32>> = distinct.iter().map(|&i| embeddings[i].clone()).collect();
    let k_cap = points.len().max(1);
    let point_labels = spectral(
        &points,
        fixed.map(|k| k.min(k_cap)),
        opts.min_speakers.min(k_cap),
        opts.max_speakers.min(k_cap),
    );
    let labels: Vec<usize> = of.iter().map(|&p| point_labels[p]).collect();
    if fixed.is_some() {
        return compact(labels);
    }
    let labels = absorb_small_clusters(embeddings, labels, min_k);
    merge_similar(embeddings, labels, min_k)
}

/// A window whose voice is less like its cluster's centroid than this is a stranger there
/// (a window of one voice: 0.75-0.9 to its speaker's centroid; one that straddles a turn
/// change: 0.5-0.7).
const STRANGER_COSINE: f32 = 0.45;
/// Strangers this alike are one voice...
const SAME_STRANGER_COSINE: f32 = 0.6;
/// ...and this many of them (about 5 s of speech) are a speaker of their own.
const MIN_STRANGERS: usize = 6;
const MAX_STRANGER_SEEDS: usize = 200;

/// Someone who speaks for a few seconds in a long recording (a caller's one question in a
/// two-hour Space) has too few windows for the eigengap to give them a cluster, and the
/// spectral step folds them into the nearest voice. Their windows then sit far from that
/// cluster's centroid, and close to each other: such a group becomes a speaker of its own.
/// Measured on eleven voices run together (README, "Accuracy"): a man's 7.8 s inside a
/// phone caller's cluster, his windows 0.38-0.41 to its centroid, its own windows 0.76-0.86.
fn with_strangers_apart(x: &[Vec<f32>], mut labels: Vec<usize>, max_k: usize) -> Vec<usize> {
    loop {
        let k = labels.iter().max().map_or(0, |m| m + 1);
        if k >= max_k {
            return labels;
        }
        let cents = centroids(x, &labels);
        let strangers: Vec<usize> = (0..x.len())
            .filter(|&i| cosine(&x[i], &cents[labels[i]]) < STRANGER_COSINE)
            .collect();
        // The stranger with the most strangers of its voice, and those strangers. (At most
        // `MAX_STRANGER_SEEDS` evenly spaced strangers are tried as that one, which bounds
        // the time on a noisy two-hour recording with thousands of them.)
        let group = strangers
            .iter()
            .step_by(strangers.len().div_ceil(MAX_STRANGER_SEEDS).max(1))
            .map(|&i| {
                strangers
                    .iter()
                    .copied()
                    .filter(|&j| cosine(&x[i], &x[j]) >= SAME_STRANGER_COSINE)
                    .collect::<Vec<usize>>()
            })
            .max_by_key(Vec::len)
            .unwrap_or_default();
        if group.len() < MIN_STRANGERS {
            return labels;
        }
        for i in group {
            labels[i] = k;
        }
    }
}

/// The windows that are not a repeat of an earlier one (`SAME_WINDOW_COSINE`), and for
/// every window the index of the distinct window it repeats (or is).
fn distinct_windows(x: &[Vec<f32>]) -> (Vec<usize>, Vec<usize>) {
    let mut distinct: Vec<usize> = Vec::new();
    let of = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            distinct
                .iter()
                .position(|&d| cosine(v, &x[d]) >= SAME_WINDOW_COSINE)
                .unwrap_or_else(|| {
                    distinct.push(i);
                    distinct.len() - 1
                })
        })
        .collect();
    (distinct, of)
}

fn spectral(x: &[Vec<f32>], fixed: Option<usize>, min_k: usize, max_k: usize) -> Vec<usize> {
    let n = x.len();
    let mut a = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in i..n {
            let c = cosine(&x[i], &x[j]) as f64;
            a[(i, j)] = c;
            a[(j, i)] = c;
        }
    }
    // p-pruning: zero each row's weakest entries.
    let n_zero = (((1.0 - PVAL) * n as f64) as usize).min(n.saturating_sub(MIN_PNUM));
    for i in 0..n {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&p, &q| a[(i, p)].total_cmp(&a[(i, q)]));
        for &j in &order[..n_zero] {
            a[(i, j)] = 0.0;
        }
    }
    let a = (&a + a.transpose()) * 0.5;
    let mut l = -a.clone();
    for i in 0..n {
        l[(i, i)] = 0.0;
        let degree: f64 = (0..n).filter(|&j| j != i).map(|j| a[(i, j)].abs()).sum();
        l[(i, i)] = degree;
    }
    let eig = SymmetricEigen::new(l);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&p, &q| eig.eigenvalues[p].total_cmp(&eig.eigenvalues[q]));
    let k = match fixed {
        Some(k) => k,
        None => {
            let lo = min_k.max(1) - 1;
            let hi = (max_k + 1).min(n);
            let vals: Vec<f64> = order[lo..hi].iter().map(|&i| eig.eigenvalues[i]).collect();
            let best = vals
                .windows(2)
                .enumerate()
                .max_by(|a, b| (a.1[1] - a.1[0]).total_cmp(&(b.1[1] - b.1[0])))
                .map_or(0, |(i, _)| i);
            best + min_k.max(1)
        }
    }
    .clamp(1, n);
    let points: Vec<Vec<f64>> = (0..n)
        .map(|r| {
            order[..k]
                .iter()
                .map(|&c| eig.eigenvectors[(r, c)])
                .collect()
        })
        .collect();
    kmeans(&points, k)
}

/// k-means++ with a fixed seed and several restarts; deterministic.
fn kmeans(points: &[Vec<f64>], k: usize) -> Vec<usize> {
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..10 {
        let mut centres =
            vec![points[(next() * points.len() as f64) as usize % points.len()].clone()];
        while centres.len() < k {
            let d: Vec<f64> = points
                .iter()
                .map(|p| centres.iter().map(|c| dist(p, c)).fold(f64::MAX, f64::min))
                .collect();
            let total: f64 = d.iter().sum();
            let mut target = next() * total;
            let mut pick = d.len() - 1;
            for (i, di) in d.iter().enumerate() {
                if target <= *di {
                    pick = i;
                    break;
                }
                target -= di;
            }
            centres.push(points[pick].clone());
        }
        let mut labels = vec![0; points.len()];
        for _ in 0..100 {
            let mut changed = false;
            for (i, p) in points.iter().enumerate() {
                let l = (0..k)
                    .min_by(|&a, &b| dist(p, &centres[a]).total_cmp(&dist(p, &centres[b])))
                    .unwrap();
                changed |= labels[i] != l;
                labels[i] = l;
            }
            for (c, centre) in centres.iter_mut().enumerate() {
                let members: Vec<&Vec<f64>> = points
                    .iter()
                    .zip(&labels)
                    .filter(|(_, &l)| l == c)
                    .map(|(p, _)| p)
                    .collect();
                if !members.is_empty() {
                    for (d, v) in centre.iter_mut().enumerate() {
                        *v = members.iter().map(|m| m[d]).sum::<f64>() / members.len() as f64;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let inertia: f64 = points
            .iter()
            .zip(&labels)
            .map(|(p, &l)| dist(p, &centres[l]))
            .sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, labels));
        }
    }
    best.map(|b| b.1).unwrap_or_default()
}

/// Relabel to 0..k with no gaps, in order of first occurrence.
fn compact(labels: Vec<usize>) -> Vec<usize> {
    let mut map = std::collections::HashMap::new();
    labels
        .into_iter()
        .map(|l| {
            let next = map.len();
            *map.entry(l).or_insert(next)
        })
        .collect()
}

/// Per label, the sum of its embeddings (a centroid up to scale: compare by cosine).
pub fn centroids(x: &[Vec<f32>], labels: &[usize]) -> Vec<Vec<f32>> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let dim = x.first().map_or(0, Vec::len);
    let mut c = vec![vec![0.0f32; dim]; k];
    for (v, &l) in x.iter().zip(labels) {
        c[l].iter_mut().zip(v).for_each(|(a, b)| *a += b);
    }
    c
}

/// Clusters of fewer than `MIN_CLUSTER_SIZE` windows join their most similar large one;
/// the `min_k` largest clusters stay whatever their size (`--min-speakers`: asking for
/// at least 30 people in a short clip gave one speaker when every cluster was small).
fn absorb_small_clusters(x: &[Vec<f32>], labels: Vec<usize>, min_k: usize) -> Vec<usize> {
    let labels = compact(labels);
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let sizes: Vec<usize> = (0..k)
        .map(|c| labels.iter().filter(|&&l| l == c).count())
        .collect();
    let mut by_size: Vec<usize> = (0..k).collect();
    by_size.sort_by_key(|&c| std::cmp::Reverse(sizes[c]));
    let kept: Vec<bool> = (0..k)
        .map(|c| sizes[c] >= MIN_CLUSTER_SIZE || by_size[..min_k.min(k)].contains(&c))
        .collect();
    let major: Vec<usize> = (0..k).filter(|&c| kept[c]).collect();
    if major.is_empty() {
        return vec![0; labels.len()];
    }
    let cents = centroids(x, &labels);
    let labels = labels
        .iter()
        .zip(x)
        .map(|(&l, v)| {
            if kept[l] {
                l
            } else {
                *major
                    .iter()
                    .max_by(|&&a, &&b| cosine(v, &cents[a]).total_cmp(&cosine(v, &cents[b])))
                    .unwrap()
            }
        })
        .collect();
    compact(labels)
}

fn merge_similar(x: &[Vec<f32>], mut labels: Vec<usize>, min_k: usize) -> Vec<usize> {
    loop {
        let cents = centroids(x, &labels);
        let k = cents.len();
        if k <= min_k {
            return labels;
        }
        let mut best = (0, 0, f32::MIN);
        for a in 0..k {
            for b in a + 1..k {
                let c = cosine(&cents[a], &cents[b]);
                if c > best.2 {
                    best = (a, b, c);
                }
            }
        }
        if best.2 <= MERGE_COSINE {
            return labels;
        }
        labels
            .iter_mut()
            .filter(|l| **l == best.1)
            .for_each(|l| *l = best.0);
        labels = compact(labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random points around `k` random unit centres in 192-d.
    fn blobs(k: usize, per: usize, noise: f32) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut s = 12345u64 + k as u64;
        let mut rnd = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        };
        let centres: Vec<Vec<f32>> = (0..k).map(|_| (0..192).map(|_| rnd()).collect()).collect();
        let mut x = Vec::new();
        let mut truth = Vec::new();
        // Unequal sizes (the first voice talks most), in a scrambled order.
        for i in 0..per * k {
            let h = (i as u64).wrapping_mul(2_654_435_761) >> 8;
            let c = if h % 3 == 0 { 0 } else { (h as usize / 3) % k };
            let mut v: Vec<f32> = centres[c].iter().map(|&m| m + noise * rnd()).collect();
            crate::diarize::embed::normalize(&mut v);
            x.push(v);
            truth.push(c);
        }
        (x, truth)
    }

    fn same_partition(a: &[usize], b: &[usize]) -> bool {
        a.len() == b.len()
            && (0..a.len()).all(|i| (0..a.len()).all(|j| (a[i] == a[j]) == (b[i] == b[j])))
    }

    #[test]
    fn finds_the_number_of_speakers_and_their_windows() {
        for k in 2..=4 {
            let (x, truth) = blobs(k, 20, 0.8);
            let labels = cluster(&x, &ClusterOptions::default());
            assert!(same_partition(&labels, &truth), "k={k}: {labels:?}");
        }
    }

    /// A long Space hears more than ten people; with the old default cap of ten, fourteen
    /// voices came out as ten.
    #[test]
    fn a_big_stage_is_counted_in_full() {
        let (x, truth) = blobs(14, 20, 0.8);
        let labels = cluster(&x, &ClusterOptions::default());
        assert!(same_partition(&labels, &truth), "{labels:?}");
    }

    /// Five voices, the last heard in only eight windows (a caller's one question).
    fn four_voices_and_a_brief_one() -> (Vec<Vec<f32>>, Vec<usize>) {
        let (all, all_truth) = blobs(5, 80, 0.6);
        let mut kept = 0;
        all.into_iter()
            .zip(all_truth)
            .filter(|(_, t)| {
                kept += usize::from(*t == 4);
                *t != 4 || kept <= 8
            })
            .unzip()
    }

    /// The brief voice folded into another's cluster (as the eigengap does when a voice
    /// has few windows) is split off again; nothing else moves.
    #[test]
    fn a_brief_voice_folded_into_another_is_its_own_speaker() {
        let (x, truth) = four_voices_and_a_brief_one();
        assert_eq!(truth.iter().filter(|&&t| t == 4).count(), 8);
        let folded: Vec<usize> = truth.iter().map(|&t| if t == 4 { 3 } else { t }).collect();
        let labels = with_strangers_apart(&x, folded, DEFAULT_MAX_SPEAKERS);
        assert!(same_partition(&labels, &truth), "{labels:?}");
    }

    /// Where every window sits with its own voice there is no stranger to split off.
    #[test]
    fn right_clusters_are_left_alone() {
        let (x, truth) = four_voices_and_a_brief_one();
        assert_eq!(
            with_strangers_apart(&x, truth.clone(), DEFAULT_MAX_SPEAKERS),
            truth
        );
    }

    /// `--min-speakers` holds even when every voice has only a few windows.
    #[test]
    fn a_least_count_is_obeyed_with_few_windows() {
        let (x, truth) = blobs(3, 3, 0.6);
        let opts = ClusterOptions {
            min_speakers: 3,
            ..Default::default()
        };
        let labels = cluster(&x, &opts);
        assert!(
            same_partition(&labels, &truth),
            "{labels:?} against {truth:?}"
        );
    }

    #[test]
    fn a_given_count_is_obeyed() {
        let (x, _) = blobs(3, 15, 0.8);
        let opts = ClusterOptions {
            num_speakers: Some(2),
            ..Default::default()
        };
        let labels = cluster(&x, &opts);
        assert_eq!(labels.iter().max(), Some(&1));
    }

    #[test]
    fn long_recordings_cluster_a_subset_and_assign_the_rest() {
        let (x, truth) = blobs(3, MAX_SPECTRAL_POINTS, 0.8);
        assert!(x.len() > MAX_SPECTRAL_POINTS);
        let labels = cluster(&x, &ClusterOptions::default());
        assert!(same_partition(&labels, &truth));
    }

    /// A recording heard six times over (a loop, a re-broadcast) has the same windows six
    /// times; it is still the same speakers. Before the repeats were taken as one point,
    /// every window's strongest affinities were its own copies and this gave one cluster.
    #[test]
    fn audio_heard_six_times_has_the_speakers_it_had_once() {
        let (once, truth_once) = blobs(4, 20, 0.8);
        let x: Vec<Vec<f32>> = (0..6).flat_map(|_| once.iter().cloned()).collect();
        let truth: Vec<usize> = (0..6).flat_map(|_| truth_once.iter().copied()).collect();
        let labels = cluster(&x, &ClusterOptions::default());
        assert!(same_partition(&labels, &truth), "{labels:?}");
    }

    #[test]
    fn few_windows_are_one_speaker() {
        let (x, _) = blobs(2, 3, 0.8);
        assert_eq!(cluster(&x, &ClusterOptions::default()), vec![0; 6]);
        assert!(cluster(&[], &ClusterOptions::default()).is_empty());
    }
}
