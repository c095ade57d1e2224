use spacescribe::diarize::embed::SpeakerEmbedder;
fn main() {
    let emb =
        SpeakerEmbedder::load(&spacescribe::models::models_dir().join("campplus_cn_en_common.pt"))
            .unwrap();
    let mut r = hound::WavReader::open("samples/interview.wav").unwrap();
    let audio: Vec<f32> = r
        .samples::<i16>()
        .map(|s| s.unwrap() as f32 / 32768.0)
        .collect();
    let rttm = std::fs::read_to_string("samples/interview.rttm").unwrap();
    let mut wins = vec![];
    let mut spk = vec![];
    for l in rttm.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (s, d): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        let mut t = s;
        while t + 1.5 <= s + d {
            wins.push(((t * 16000.0) as usize, ((t + 1.5) * 16000.0) as usize));
            spk.push(f[7].to_string());
            t += 0.6;
        }
    }
    let t0 = std::time::Instant::now();
    let e = emb.embed_windows(&audio, &wins).unwrap();
    println!(
        "{} windows in {:.2}s",
        wins.len(),
        t0.elapsed().as_secs_f64()
    );
    let e: Vec<Vec<f32>> = e.into_iter().map(|x| x.unwrap()).collect();
    let (mut same, mut ns, mut diff, mut nd) = (0.0, 0, 0.0, 0);
    for i in 0..e.len() {
        for j in i + 1..e.len() {
            let c: f32 = e[i].iter().zip(&e[j]).map(|(a, b)| a * b).sum();
            if spk[i] == spk[j] {
                same += c;
                ns += 1
            } else {
                diff += c;
                nd += 1
            }
        }
    }
    println!(
        "mean cos same {:.3} diff {:.3}",
        same / ns as f32,
        diff / nd as f32
    );
}
