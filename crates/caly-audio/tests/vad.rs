//! The speech engines' detector on real synthesised speech (espeak-ng, telephone rate).

use caly_audio::vad::{Activity, Neural, Vad};

fn fixture(name: &str) -> Vec<i16> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    hound::WavReader::open(path).unwrap().into_samples().map(Result::unwrap).collect()
}

/// Where speech started and ended, in 20 ms frames, with half a second of silence around.
fn activity(samples: &[i16], aggressiveness: u8) -> Vec<(Activity, usize)> {
    let mut vad = Vad::new(Neural::new(8_000, aggressiveness).unwrap(), 3, 25);
    let silence = vec![0i16; 4_000];
    let audio: Vec<i16> = silence.iter().chain(samples).chain(&silence).chain(&silence).copied().collect();
    audio.chunks(160).enumerate().filter_map(|(i, frame)| vad.frame(frame).map(|a| (a, i))).collect()
}

#[test]
fn hindi_and_english_speech_start_and_end_once() {
    for name in ["order_hi_8k.wav", "order_en_8k.wav"] {
        let samples = fixture(name);
        let frames = samples.len() / 160;
        for aggressiveness in 0..=3 {
            let events = activity(&samples, aggressiveness);
            let [(Activity::SpeechStarted, start), (Activity::SpeechEnded, end)] = events[..] else {
                panic!("{name} at {aggressiveness}: {events:?}");
            };
            assert!((25..40).contains(&start), "{name}: started at frame {start}");
            assert!(end >= 25 + frames * 3 / 4 && end <= 25 + frames + 30, "{name}: ended at frame {end} of {frames}");
        }
    }
}

#[test]
fn speech_after_a_long_silence_is_heard_as_the_first_time() {
    // A long silence is not given to the network: an utterance said again after one starts and
    // ends where it did the first time, give or take a frame.
    let samples = fixture("order_en_8k.wav");
    let mut vad = Vad::new(Neural::new(8_000, 1).unwrap(), 3, 25);
    let silence = vec![0i16; 8_000];
    let once: Vec<i16> = silence.iter().chain(&samples).copied().collect();
    let audio = [once.clone(), once.clone(), silence].concat();
    let events: Vec<_> =
        audio.chunks(160).enumerate().filter_map(|(i, frame)| vad.frame(frame).map(|a| (a, i))).collect();
    let period = once.len() / 160;
    let [
        (Activity::SpeechStarted, start),
        (Activity::SpeechEnded, end),
        (Activity::SpeechStarted, again),
        (Activity::SpeechEnded, end_again),
    ] = events[..]
    else {
        panic!("{events:?}");
    };
    assert!(start.abs_diff(again - period) <= 1 && end.abs_diff(end_again - period) <= 1, "{events:?}");
}
