//! How simulated viewers take part in polls and instant wins (pure, seeded).
//!
//! A viewer that sees `poll_opened` votes once, with a bias toward the
//! first option so a demo's bar chart has a clear leader; one that sees
//! `instant_win_opened` (a first draw, not a re-draw) enters, most of the
//! time. The same seed gives the same choices.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The crowd's habits in games.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GamePlay {
    /// Share of votes that go to the first option, on top of an even
    /// spread: 0 is uniform, 1 is everyone on option 1.
    pub poll_bias: f64,
    /// Share of viewers who vote in a poll they see open.
    pub vote_ratio: f64,
    /// Share of viewers who enter an instant win they see open.
    pub entry_ratio: f64,
}

impl Default for GamePlay {
    fn default() -> Self {
        Self {
            poll_bias: 0.3,
            vote_ratio: 0.9,
            entry_ratio: 0.8,
        }
    }
}

impl GamePlay {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("poll bias", self.poll_bias),
            ("vote ratio", self.vote_ratio),
            ("entry ratio", self.entry_ratio),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        Ok(())
    }
}

/// One viewer's dice for games, seeded by the crowd seed and its index.
#[derive(Debug)]
pub struct Player {
    play: GamePlay,
    rng: StdRng,
}

impl Player {
    pub fn new(play: GamePlay, seed: u64, index: usize) -> Self {
        Self {
            play,
            rng: StdRng::seed_from_u64(seed ^ 0x9A4E_5EED ^ (index as u64).rotate_left(17)),
        }
    }

    /// The 0-based option to vote for among `options`, or `None` to abstain.
    pub fn vote(&mut self, options: usize) -> Option<usize> {
        if options == 0 || !self.rng.random_bool(self.play.vote_ratio) {
            return None;
        }
        if self.rng.random_bool(self.play.poll_bias) {
            Some(0)
        } else {
            Some(self.rng.random_range(0..options))
        }
    }

    /// Whether to enter an instant win.
    pub fn enters(&mut self) -> bool {
        self.rng.random_bool(self.play.entry_ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(play: GamePlay) -> [u64; 3] {
        let mut counts = [0u64; 3];
        for i in 0..3_000 {
            if let Some(o) = Player::new(play, 7, i).vote(3) {
                counts[o] += 1;
            }
        }
        counts
    }

    #[test]
    fn the_bias_leans_toward_the_first_option() {
        let even = shares(GamePlay {
            poll_bias: 0.0,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        });
        assert_eq!(even.iter().sum::<u64>(), 3_000);
        assert!(even.iter().all(|&c| (850..1150).contains(&c)), "{even:?}");
        let leaning = shares(GamePlay {
            poll_bias: 0.5,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        });
        // 0.5 + 0.5/3 of the votes ≈ 2,000 on option 1.
        assert!((1_850..2_150).contains(&leaning[0]), "{leaning:?}");
        let all_first = shares(GamePlay {
            poll_bias: 1.0,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        });
        assert_eq!(all_first, [3_000, 0, 0]);
    }

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let play = GamePlay::default();
        let a: Vec<_> = (0..50).map(|i| Player::new(play, 3, i).vote(4)).collect();
        let b: Vec<_> = (0..50).map(|i| Player::new(play, 3, i).vote(4)).collect();
        assert_eq!(a, b);
        assert!(
            GamePlay {
                poll_bias: 1.5,
                ..play
            }
            .validate()
            .is_err()
        );
    }
}
