//! Known answers for instant-win draws, so records already published stay
//! verifiable: a change to the stream's domain, its counter encoding, the
//! word order, the rejection rule or the shuffle breaks these.
//!
//! The expected values were not produced by this crate: they were computed
//! by `tests/fixtures/reference_vectors.py`, a Python implementation written
//! from `docs/draws.md` alone (commitments and entrant hashes also checked
//! with `sha256sum`), and pinned here as literals. The last test runs that
//! script again, on these vectors and on a few hundred more cases, and
//! compares it with the crate.

mod support;

use support::reference::python;

use regie::instant_win::{DrawRecord, Seed, canonical_entrants, stream_below, verify};
use regie::protocol::ViewerId;
use serde_json::json;
use sha2::{Digest, Sha256};

struct DrawVector {
    seed: &'static str,
    /// As entered: unsorted, possibly with duplicates.
    entered: &'static [&'static str],
    winner_count: usize,
    commitment: &'static str,
    /// The canonical list.
    entrants: &'static [&'static str],
    entrants_hash: &'static str,
    /// In the order drawn.
    winners: &'static [&'static str],
}

const SEED_0_TO_31: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

const TWENTY_FIVE: &[&str] = &[
    "v-000", "v-001", "v-002", "v-003", "v-004", "v-005", "v-006", "v-007", "v-008", "v-009",
    "v-010", "v-011", "v-012", "v-013", "v-014", "v-015", "v-016", "v-017", "v-018", "v-019",
    "v-020", "v-021", "v-022", "v-023", "v-024",
];

const DRAWS: &[DrawVector] = &[
    // The one in docs/draws.md.
    DrawVector {
        seed: SEED_0_TO_31,
        entered: TWENTY_FIVE,
        winner_count: 3,
        commitment: "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",
        entrants: TWENTY_FIVE,
        entrants_hash: "d5ec27809ed118c3b2144c810276e3c6a152bcbafe02efd92abd840827835c1f",
        winners: &["v-011", "v-014", "v-020"],
    },
    // Real-looking ids, entered out of order and one twice.
    DrawVector {
        seed: "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed",
        entered: &[
            "v-8a41c2d90e7b3f15",
            "v-3fa9c0ee12d4b7a1",
            "v-c2d90e7b3f158a41",
            "v-3fa9c0ee12d4b7a1",
            "v-0000000000000001",
            "v-ffffffffffffffff",
            "v-1b2c3d4e5f607182",
        ],
        winner_count: 2,
        commitment: "f9fa5c699354e46a448f75765ae99bf06741d541ab6c337c0f3722850adbb136",
        entrants: &[
            "v-0000000000000001",
            "v-1b2c3d4e5f607182",
            "v-3fa9c0ee12d4b7a1",
            "v-8a41c2d90e7b3f15",
            "v-c2d90e7b3f158a41",
            "v-ffffffffffffffff",
        ],
        entrants_hash: "23a781ed8570808b29c21358b573414f3d15c5185e6c9154b501dd986fa483d9",
        winners: &["v-c2d90e7b3f158a41", "v-8a41c2d90e7b3f15"],
    },
    // Nobody entered: the empty string's hash, no winner.
    DrawVector {
        seed: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        entered: &[],
        winner_count: 3,
        commitment: "af9613760f72635fbdb44a5a0a63c39f12af30f950a6ee5c971be188e89c4051",
        entrants: &[],
        entrants_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        winners: &[],
    },
    // More prizes than entrants: everyone wins, in shuffled order.
    DrawVector {
        seed: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
        entered: &["v-e", "v-d", "v-c", "v-b", "v-a"],
        winner_count: 10,
        commitment: "1f94eb635fe8b4b9f1f6110b84d7f9ea9a8d030082e2a9e2def9a8bae4adb556",
        entrants: &["v-a", "v-b", "v-c", "v-d", "v-e"],
        entrants_hash: "41b22397ac846f4f4967c3b10f427d4309bf5a6a395bb82adf792a87b548af40",
        winners: &["v-d", "v-b", "v-c", "v-a", "v-e"],
    },
    // UTF-8 byte order: capitals, then prefixes first, then é and emoji.
    DrawVector {
        seed: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        entered: &["v-z", "v-é", "v-Z", "v-a", "v-ab", "v-é", "v-😀"],
        winner_count: 7,
        commitment: "4884fdaafea47c29fea7159d0daddd9c085d6200e1359e85bb81736af6b7c837",
        entrants: &["v-Z", "v-a", "v-ab", "v-z", "v-é", "v-😀"],
        entrants_hash: "2e67f07b6055e78655479b71711732cf5cd2152ad2efe2d2193d9ff3fc24d78d",
        winners: &["v-Z", "v-😀", "v-z", "v-é", "v-ab", "v-a"],
    },
];

/// The entrants hash of [`TWENTY_FIVE`], as the stream vectors' key.
const STREAM_HASH: &str = "d5ec27809ed118c3b2144c810276e3c6a152bcbafe02efd92abd840827835c1f";

/// `u64::MAX` never rejects a word below it: these are the raw words of
/// blocks 0 and 1 (four per block, big-endian, in order).
const RAW_WORDS: [u64; 6] = [
    18_316_711_790_326_451_111,
    13_192_861_652_056_768_789,
    18_257_857_145_798_381_299,
    13_848_880_173_026_060_032,
    12_137_278_658_078_738_453,
    3_402_856_469_415_625_766,
];

const TWO_63: u64 = 1 << 63;

/// Bounds that make rejection likely: `2^63 + 1` rejects words at or above
/// it (the first five words above), and the power of two `2^63` rejects
/// its top half under the `2^64 - 1` rule.
const BOUNDS: [u64; 12] = [
    TWO_63 + 1,
    TWO_63 + 1,
    TWO_63 + 1,
    TWO_63 + 1,
    TWO_63,
    TWO_63,
    TWO_63,
    TWO_63,
    3,
    1,
    25,
    12_297_829_382_473_034_411,
];

const BOUNDED: [u64; 12] = [
    3_402_856_469_415_625_766,
    3_781_010_218_129_769_028,
    4_645_650_277_296_190_986,
    3_117_397_574_215_662_448,
    7_459_117_375_668_517_248,
    8_091_163_744_614_691_561,
    5_705_462_100_083_654_622,
    5_372_731_356_984_536_300,
    1,
    0,
    9,
    10_893_506_456_815_184_710,
];

fn ids(list: &[&str]) -> Vec<ViewerId> {
    list.iter().map(|s| ViewerId((*s).to_string())).collect()
}

fn seed(hex: &str) -> Seed {
    Seed::from_hex(hex).expect("a vector's seed is 64 hex digits")
}

#[test]
fn draws_match_their_known_answers() {
    for (n, v) in DRAWS.iter().enumerate() {
        let record = DrawRecord::close(
            n as u64 + 1,
            "vector".into(),
            v.winner_count,
            &seed(v.seed),
            ids(v.entered),
            None,
        )
        .expect("the vector's ids are valid");
        assert_eq!(record.commitment, v.commitment, "vector {n}: commitment");
        assert_eq!(record.entrants, ids(v.entrants), "vector {n}: entrants");
        assert_eq!(record.entrants_hash, v.entrants_hash, "vector {n}: hash");
        assert_eq!(record.winners, ids(v.winners), "vector {n}: winners");
        assert_eq!(verify(&record), Ok(()), "vector {n}: verify");
    }
}

/// A record as `GET /draws/1.json` served it, written out by hand: it must
/// keep verifying, and one winner out of order must not.
#[test]
fn a_record_published_earlier_still_verifies() {
    let v = &DRAWS[0];
    let published = json!({
        "draw_id": 1,
        "prize": "Bon d'achat 50 €",
        "winner_count": v.winner_count,
        "commitment": v.commitment,
        "seed": v.seed,
        "entrants": v.entrants,
        "entrants_hash": v.entrants_hash,
        "winners": v.winners,
    });
    let record: DrawRecord =
        serde_json::from_value(published.clone()).expect("the published shape still parses");
    assert_eq!(verify(&record), Ok(()));

    let mut swapped = record;
    swapped.winners.swap(0, 1);
    assert!(
        verify(&swapped).is_err(),
        "winner order is part of the record"
    );
}

#[test]
fn the_stream_matches_its_known_answers() {
    let s = seed(SEED_0_TO_31);
    assert_eq!(stream_below(&s, STREAM_HASH, &[u64::MAX; 6]), RAW_WORDS);
    assert_eq!(stream_below(&s, STREAM_HASH, &BOUNDS), BOUNDED);
}

/// Fixed but varied cases beyond the pinned ones: sizes 0 to 40 and one of
/// 300, winner counts 0 to 6 and more than the entrants.
fn generated_cases() -> Vec<(String, Vec<String>, usize)> {
    let mut cases = Vec::new();
    for i in 0u64..200 {
        let seed = Seed(Sha256::digest(i.to_be_bytes()).into()).to_hex();
        let size = usize::try_from(i % 41).expect("small");
        let entrants = (0..size)
            .map(|k| {
                format!(
                    "v-{:016x}",
                    (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )
            })
            .collect();
        cases.push((seed, entrants, usize::try_from(i % 7).expect("small")));
    }
    let entrants = (0..300).map(|k| format!("v-{k:04}")).collect();
    cases.push((SEED_0_TO_31.to_string(), entrants, 100));
    cases
}

#[test]
fn an_independent_python_implementation_agrees() {
    let mut cases: Vec<(String, Vec<String>, usize)> = DRAWS
        .iter()
        .map(|v| {
            (
                v.seed.to_string(),
                v.entered.iter().map(|s| (*s).to_string()).collect(),
                v.winner_count,
            )
        })
        .collect();
    cases.extend(generated_cases());
    let request = json!({
        "draws": cases.iter().map(|(seed, entrants, count)| json!({
            "seed": seed, "entrants": entrants, "winner_count": count,
        })).collect::<Vec<_>>(),
        "streams": [
            {"seed": SEED_0_TO_31, "entrants_hash": STREAM_HASH,
             "bounds": vec![u64::MAX.to_string(); 6]},
            {"seed": SEED_0_TO_31, "entrants_hash": STREAM_HASH,
             "bounds": BOUNDS.iter().map(u64::to_string).collect::<Vec<_>>()},
        ],
    });
    let Some(answer) = python(&request) else {
        eprintln!("SKIPPED: python3 is not installed, so the Python cross-check did not run");
        return;
    };

    for (n, (seed_hex, entered, count)) in cases.iter().enumerate() {
        let theirs = &answer["draws"][n];
        let record = DrawRecord::close(
            1,
            "p".into(),
            *count,
            &seed(seed_hex),
            entered.iter().cloned().map(ViewerId).collect(),
            None,
        )
        .expect("valid ids");
        let ours = json!({
            "commitment": record.commitment,
            "entrants": record.entrants,
            "entrants_hash": record.entrants_hash,
            "winners": record.winners,
        });
        assert_eq!(
            &ours, theirs,
            "case {n}: the crate and the Python reference differ"
        );
        assert_eq!(
            record.entrants,
            canonical_entrants(record.entrants.clone()),
            "case {n}"
        );
    }
    // And Python gives the pinned literals, so they are not the crate's.
    for (n, v) in DRAWS.iter().enumerate() {
        let theirs = &answer["draws"][n];
        assert_eq!(theirs["commitment"], v.commitment, "vector {n}");
        assert_eq!(theirs["entrants_hash"], v.entrants_hash, "vector {n}");
        assert_eq!(theirs["winners"], json!(v.winners), "vector {n}");
    }
    let stream = |i: usize| -> Vec<u64> {
        answer["streams"][i]
            .as_array()
            .expect("a list")
            .iter()
            .map(|x| x.as_str().and_then(|s| s.parse().ok()).expect("decimal"))
            .collect()
    };
    assert_eq!(stream(0), RAW_WORDS);
    assert_eq!(stream(1), BOUNDED);
}
