//! The real clock and randomness, for the ports [`Clock`] and [`Entropy`]
//! and for the edge's own ids and jitter.

use time::OffsetDateTime;

use crate::ports::{Clock, Entropy};

/// Fresh random bytes from the thread's CSPRNG (ChaCha, seeded and
/// reseeded from the operating system): nonces, key material, ids.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom.fill(&mut out);
    out
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The thread's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandom;

impl Entropy for SystemRandom {
    fn fill(&self, out: &mut [u8]) {
        use rand::Rng as _;
        rand::rng().fill_bytes(out);
    }
}
