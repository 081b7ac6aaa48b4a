//! Audio as carriers send and want it: G.711 μ-law and A-law to and from 16-bit PCM, resampling
//! between 8, 16 and 24 kHz, and the 20 ms frames calls are paced in. Pure functions over samples; nothing here does IO.

pub mod frame;
pub mod g711;
pub mod pacing;
pub mod resample;
pub mod vad;
