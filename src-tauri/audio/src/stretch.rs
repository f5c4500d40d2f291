//! Slower and faster without a change of pitch (WSOLA: waveform-similarity overlap-add). The
//! input is cut into 20 ms frames, taken every `rate × 10 ms` and laid every 10 ms under a Hann
//! window; each frame is moved by up to 5 ms to where it best continues the one before it, so
//! speech keeps its pitch and does not warble.

use zeroize::Zeroize;

/// Frame length (20 ms at 48 kHz).
const N: usize = 960;
/// Output hop: half a frame (Hann windows at half overlap add up to one).
const HOP: usize = N / 2;
/// How far a frame may move to fit (5 ms).
const TOLERANCE: usize = 240;

/// A time-stretcher at a given rate (0.5 to 2.0; 1.0 passes samples through).
pub struct Stretch {
    rate: f64,
    window: Vec<f32>,
    /// Input not yet used from `head` on; `input[head]` is input sample `base`.
    input: Vec<f32>,
    head: usize,
    base: u64,
    /// Where the next frame would be taken, without moving it.
    nominal: f64,
    /// Where the last frame was taken.
    prev: Option<u64>,
    /// The second half of the last frame, windowed, waiting for the next.
    tail: Vec<f32>,
}

impl Stretch {
    /// A stretcher at `rate`.
    pub fn new(rate: f64) -> Stretch {
        let window = (0..N)
            .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N as f64).cos()) as f32)
            .collect();
        Stretch {
            rate: if rate.is_finite() {
                rate.clamp(0.5, 2.0)
            } else {
                1.0
            },
            window,
            input: Vec::new(),
            head: 0,
            base: 0,
            nominal: 0.0,
            prev: None,
            tail: vec![0.0; HOP],
        }
    }

    /// The rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Stretches `input` into `out` (what it can so far; the rest waits for more input).
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if (self.rate - 1.0).abs() < 1e-6 {
            out.extend_from_slice(input);
            return;
        }
        // Used input is dropped in one move once it is half the buffer (not frame by frame:
        // a long page at a slow rate would make that quadratic).
        if self.head > 0 && self.head >= self.input.len() / 2 {
            self.input[..self.head].zeroize();
            self.input.drain(..self.head);
            self.head = 0;
        }
        self.input.extend_from_slice(input);
        loop {
            let nominal = self.nominal as u64;
            let need_end = nominal + TOLERANCE as u64 + N as u64;
            if need_end > self.base + (self.input.len() - self.head) as u64 {
                break;
            }
            let at = match self.prev {
                None => nominal,
                Some(prev) => self.best(prev + HOP as u64, nominal),
            };
            let i = self.head + (at - self.base) as usize;
            for k in 0..HOP {
                out.push(self.tail[k] + self.input[i + k] * self.window[k]);
            }
            for k in 0..HOP {
                self.tail[k] = self.input[i + HOP + k] * self.window[HOP + k];
            }
            self.prev = Some(at);
            self.nominal += self.rate * HOP as f64;
            // Drop input no later frame can use.
            let keep_from = (self.nominal as u64)
                .saturating_sub(TOLERANCE as u64)
                .min(at + HOP as u64);
            let drop = keep_from.saturating_sub(self.base) as usize;
            self.head += drop;
            self.base += drop as u64;
        }
    }

    /// The start near `nominal` whose first half best matches the natural continuation of the
    /// last frame (input from `natural`).
    fn best(&self, natural: u64, nominal: u64) -> u64 {
        let nat = self.head + (natural - self.base) as usize;
        let target = &self.input[nat..nat + HOP];
        let lo = nominal.saturating_sub(TOLERANCE as u64).max(self.base);
        let mut best = (f32::MIN, nominal);
        for cand in (lo..=nominal + TOLERANCE as u64).step_by(2) {
            let c = self.head + (cand - self.base) as usize;
            let score: f32 = target
                .iter()
                .zip(&self.input[c..c + HOP])
                .map(|(a, b)| a * b)
                .sum();
            if score > best.0 {
                best = (score, cand);
            }
        }
        best.1
    }
}

impl Drop for Stretch {
    fn drop(&mut self) {
        self.input.zeroize();
        self.tail.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / 48_000.0).sin() as f32 * 0.5)
            .collect()
    }

    /// Zero crossings per second: the pitch of a pure tone, twice over.
    fn crossings(s: &[f32]) -> f64 {
        let n = s
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        n as f64 / (s.len() as f64 / 48_000.0)
    }

    #[test]
    fn slower_and_faster_keep_the_pitch_and_change_the_length() {
        let input = tone(440.0, 48_000 * 4);
        for rate in [0.5, 0.75, 1.5, 2.0] {
            let mut st = Stretch::new(rate);
            let mut out = Vec::new();
            for block in input.chunks(1024) {
                st.process(block, &mut out);
            }
            let want = input.len() as f64 / rate;
            let got = out.len() as f64;
            assert!(
                (got - want).abs() / want < 0.03,
                "rate {rate}: {got} samples, want {want}"
            );
            let pitch = crossings(&out[4_800..out.len() - 4_800]) / 2.0;
            assert!(
                (pitch - 440.0).abs() < 10.0,
                "rate {rate}: pitch {pitch} Hz"
            );
        }
    }
}
