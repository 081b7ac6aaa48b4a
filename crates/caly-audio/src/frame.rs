//! Calls move audio in 20 ms frames; a `Framer` turns chunks of any length into whole frames and
//! keeps the rest for the next chunk.

/// Samples in one 20 ms frame at `rate` Hz (160 at 8 kHz, 320 at 16 kHz).
pub const fn samples_per_frame(rate: u32) -> usize {
    (rate / 50) as usize
}

#[derive(Debug)]
pub struct Framer {
    frame: usize,
    pending: Vec<i16>,
}

impl Framer {
    pub fn new(rate: u32) -> Self {
        let frame = samples_per_frame(rate);
        Self { frame, pending: Vec::with_capacity(frame) }
    }

    /// Adds samples and hands each whole frame to `frame`, in order.
    pub fn push(&mut self, mut samples: &[i16], mut frame: impl FnMut(&[i16])) {
        if !self.pending.is_empty() {
            let wanted = (self.frame - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..wanted]);
            samples = &samples[wanted..];
            if self.pending.len() < self.frame {
                return;
            }
            frame(&self.pending);
            self.pending.clear();
        }
        let mut chunks = samples.chunks_exact(self.frame);
        for whole in &mut chunks {
            frame(whole);
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    /// Drops a partial frame (the rest of audio that will not be played).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The last, short frame padded with silence, if anything is left.
    pub fn flush(&mut self, mut frame: impl FnMut(&[i16])) {
        if !self.pending.is_empty() {
            self.pending.resize(self.frame, 0);
            frame(&self.pending);
            self.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// However the audio is chunked, the frames are the audio, in order, 20 ms each.
        #[test]
        fn chunks_of_any_size_make_the_same_frames(cuts in proptest::collection::vec(0usize..700, 0..20)) {
            let audio: Vec<i16> = (0..3_000).map(|i| i as i16).collect();
            let mut framer = Framer::new(8_000);
            let mut out = Vec::new();
            let mut rest = audio.as_slice();
            for cut in cuts {
                let (chunk, tail) = rest.split_at(cut.min(rest.len()));
                framer.push(chunk, |f| { assert_eq!(f.len(), 160); out.extend_from_slice(f) });
                rest = tail;
            }
            framer.push(rest, |f| out.extend_from_slice(f));
            framer.flush(|f| out.extend_from_slice(f));
            prop_assert_eq!(out.len(), 3_040);
            prop_assert_eq!(&out[..3_000], audio.as_slice());
            prop_assert!(out[3_000..].iter().all(|s| *s == 0));
        }
    }
}
