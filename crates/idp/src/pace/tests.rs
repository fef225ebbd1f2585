//! The pacer against a token bucket shaped like Auth0's (the simulator's rules: `reset` is
//! when the bucket is full again, rounded up to the second), on tokio's paused clock so
//! rates are exact and the tests take no real time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::*;

/// Wall time that follows tokio's (paused) clock, `skew` ahead of the provider's.
#[derive(Debug)]
struct PausedWall {
    start: DateTime<Utc>,
    origin: Instant,
    skew: TimeDelta,
}

impl Clock for PausedWall {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.origin.elapsed()).unwrap_or_default();
        self.start + elapsed + self.skew
    }
}

/// The provider: a bucket of `capacity` refilled at `per_sec`.
struct Provider {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    updated: Instant,
    start: DateTime<Utc>,
    origin: Instant,
    refused: usize,
}

impl Provider {
    fn new(capacity: u32, per_sec: f64, start: DateTime<Utc>) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_sec,
            tokens: f64::from(capacity),
            updated: Instant::now(),
            start,
            origin: Instant::now(),
            refused: 0,
        }
    }

    /// One call: its status and rate-limit headers.
    fn answer(&mut self) -> (u16, HeaderMap) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.updated = now;
        let allowed = self.tokens >= 1.0;
        let reset_in = if allowed {
            self.tokens -= 1.0;
            (self.capacity - self.tokens) / self.per_sec
        } else {
            self.refused += 1;
            (1.0 - self.tokens) / self.per_sec
        };
        let wall = self.start + TimeDelta::from_std(now.duration_since(self.origin)).unwrap();
        let exact = wall.timestamp_millis() as f64 / 1000.0 + reset_in;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        };
        put("x-ratelimit-limit", (self.capacity as u64).to_string());
        put(
            "x-ratelimit-remaining",
            (self.tokens.floor() as u64).to_string(),
        );
        put("x-ratelimit-reset", (exact.ceil() as i64).to_string());
        (if allowed { 200 } else { 429 }, headers)
    }
}

struct Run {
    elapsed: Duration,
    refused: usize,
    stats: PaceStats,
}

/// `calls` background calls from `callers` callers at once (each sends its share one after
/// another) against a fresh bucket, `latency` the round trip of each; a 429 is retried (as
/// the transport does).
async fn burst(
    capacity: u32,
    per_sec: f64,
    (calls, callers): (usize, usize),
    latency: Duration,
    skew_ms: i64,
) -> Run {
    burst_with_delays(
        capacity,
        per_sec,
        (calls, callers),
        latency,
        skew_ms,
        |_| Duration::ZERO,
    )
    .await
}

/// [`burst`] where the `i`-th call leaves `delay(i)` late after being let through (a loaded
/// host: the task that won the pacer is not scheduled at once).
async fn burst_with_delays(
    capacity: u32,
    per_sec: f64,
    (calls, callers): (usize, usize),
    latency: Duration,
    skew_ms: i64,
    delay: fn(u64) -> Duration,
) -> Run {
    let sent_count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // A start inside a second, so the rounding of `reset` matters.
    let start = DateTime::from_timestamp(1_800_000_000, 300_000_000).unwrap();
    let clock = Arc::new(PausedWall {
        start,
        origin: Instant::now(),
        skew: TimeDelta::milliseconds(skew_ms),
    });
    let provider = Arc::new(Mutex::new(Provider::new(capacity, per_sec, start)));
    let pacer = Arc::new(Pacer::default());
    let began = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let (clock, provider, pacer) = (clock.clone(), provider.clone(), pacer.clone());
            let sent_count = sent_count.clone();
            let share = (caller..calls).step_by(callers).count();
            tokio::spawn(async move {
                for _ in 0..share {
                    loop {
                        let sent = pacer
                            .acquire(
                                Priority::Background,
                                clock.as_ref(),
                                Duration::from_secs(600),
                            )
                            .await
                            .unwrap();
                        // Half the latency there, half back; the send itself may be late.
                        let i = sent_count.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(delay(i) + latency / 2).await;
                        let (status, headers) = provider.lock().unwrap().answer();
                        tokio::time::sleep(latency / 2).await;
                        pacer.observe(sent, status, &headers).await;
                        if status != 429 {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let refused = provider.lock().unwrap().refused;
    eprintln!(
        "RUN {calls} calls in {:?}, {refused} refused, {:?}",
        began.elapsed(),
        pacer.stats()
    );
    Run {
        elapsed: began.elapsed(),
        refused,
        stats: pacer.stats(),
    }
}

/// The least time the bucket needs for `calls`: the burst at once, the rest at the rate.
fn the_limit(capacity: u32, per_sec: f64, calls: usize) -> Duration {
    Duration::from_secs_f64((calls as f64 - f64::from(capacity)).max(0.0) / per_sec)
}

#[tokio::test(start_paused = true)]
async fn a_free_plan_burst_runs_near_two_per_second_without_a_429() {
    let run = burst(2, 2.0, (60, 60), Duration::from_millis(20), 0).await;
    let limit = the_limit(2, 2.0, 60);
    assert_eq!(run.refused, 0, "{:?}", run.stats);
    let ratio = limit.as_secs_f64() / run.elapsed.as_secs_f64();
    assert!(
        ratio >= 0.9,
        "60 calls took {:?}, the plan allows them in {limit:?} ({:.0} % of the limit)",
        run.elapsed,
        ratio * 100.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_self_service_burst_spends_the_burst_then_runs_near_fifteen_per_second() {
    let run = burst(50, 15.0, (200, 200), Duration::from_millis(20), 0).await;
    let limit = the_limit(50, 15.0, 200);
    assert_eq!(run.refused, 0, "{:?}", run.stats);
    let ratio = limit.as_secs_f64() / run.elapsed.as_secs_f64();
    assert!(ratio >= 0.85, "{:?} for a limit of {limit:?}", run.elapsed);
}

#[tokio::test(start_paused = true)]
async fn a_clock_a_little_ahead_of_the_provider_meets_no_429() {
    // 150 ms ahead (an unsynchronised host): the first refill samples read too short.
    let run = burst(2, 2.0, (60, 60), Duration::from_millis(20), 150).await;
    assert_eq!(run.refused, 0, "{:?}", run.stats);
}

#[tokio::test(start_paused = true)]
async fn a_clock_far_ahead_meets_429s_and_backs_off() {
    // 400 ms ahead: spacing by the samples alone would overrun; the 429s raise the floor.
    let run = burst(2, 2.0, (60, 60), Duration::from_millis(20), 400).await;
    assert!(
        run.refused * 100 <= 60 * 15,
        "{} 429s for 60 calls: {:?}",
        run.refused,
        run.stats
    );
    let limit = the_limit(2, 2.0, 60);
    assert!(run.elapsed >= limit, "{:?} beat the plan", run.elapsed);
}

#[tokio::test(start_paused = true)]
async fn one_caller_after_another_still_gets_the_plans_rate() {
    // A job worker that sends its look-ups one at a time, 50 ms answers.
    for callers in [1, 4] {
        let run = burst(2, 2.0, (60, callers), Duration::from_millis(50), 0).await;
        let limit = the_limit(2, 2.0, 60);
        assert_eq!(run.refused, 0, "{callers} callers: {:?}", run.stats);
        let ratio = limit.as_secs_f64() / run.elapsed.as_secs_f64();
        assert!(
            ratio >= 0.85,
            "{callers} callers: 60 calls took {:?}, the plan allows {limit:?}",
            run.elapsed
        );
    }
}

#[tokio::test(start_paused = true)]
async fn sends_late_by_a_loaded_host_still_meet_at_most_one_percent_429s() {
    // One call in three leaves up to 300 ms after the pacer let it go (two cores, a busy
    // runtime): calls let through a refill apart reach the provider closer together.
    fn late(i: u64) -> Duration {
        let spread = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        if i.is_multiple_of(3) {
            Duration::from_millis(spread % 300)
        } else {
            Duration::ZERO
        }
    }
    let run = burst_with_delays(2, 2.0, (300, 16), Duration::from_millis(20), 0, late).await;
    let limit = the_limit(2, 2.0, 300);
    let ratio = limit.as_secs_f64() / run.elapsed.as_secs_f64();
    assert!(
        run.refused * 100 <= 300,
        "{} 429s for 300 calls: {:?}",
        run.refused,
        run.stats
    );
    assert!(
        ratio >= 0.85,
        "300 calls took {:?}, the plan allows {limit:?}",
        run.elapsed
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_whose_reset_has_passed_lets_the_next_call_go_at_once() {
    // A roomy window (limit 50, 49 left: a refill is "learned" from it, a whole second
    // rounded up), then one 429 whose reset is already here: the provider says capacity is
    // back, so a user's call must not wait out a spacing it never needed.
    let start = DateTime::from_timestamp(1_800_000_000, 300_000_000).unwrap();
    let clock = PausedWall {
        start,
        origin: Instant::now(),
        skew: TimeDelta::zero(),
    };
    let headers = |remaining: u64, reset: i64| {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("50"));
        headers.insert(
            "x-ratelimit-remaining",
            HeaderValue::from_str(&remaining.to_string()).unwrap(),
        );
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        headers
    };
    let pacer = Pacer::default();
    let wait = Duration::from_millis(50);
    let sent = pacer
        .acquire(Priority::Background, &clock, wait)
        .await
        .unwrap();
    let second = start.timestamp();
    pacer.observe(sent, 200, &headers(49, second + 1)).await;
    let sent = pacer
        .acquire(Priority::Interactive, &clock, wait)
        .await
        .unwrap();
    pacer.observe(sent, 429, &headers(0, second)).await;
    tokio::time::advance(Duration::from_millis(10)).await;
    let next = pacer.acquire(Priority::Interactive, &clock, wait).await;
    assert!(next.is_ok(), "{next:?}");
}

#[tokio::test(start_paused = true)]
async fn calls_beside_a_slow_first_call_wait_for_its_answer_instead_of_failing() {
    // The window is unknown until the first answer: the others wait for it however long it
    // takes (a loaded host), and only a wait for capacity counts against `max_wait`.
    let start = DateTime::from_timestamp(1_800_000_000, 300_000_000).unwrap();
    let clock = Arc::new(PausedWall {
        start,
        origin: Instant::now(),
        skew: TimeDelta::zero(),
    });
    let pacer = Arc::new(Pacer::default());
    let wait = Duration::from_millis(50);
    let first = pacer
        .acquire(Priority::Background, clock.as_ref(), wait)
        .await
        .unwrap();
    let beside = {
        let (pacer, clock) = (pacer.clone(), clock.clone());
        tokio::spawn(async move {
            pacer
                .acquire(Priority::Background, clock.as_ref(), wait)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("99"));
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from_str(&(start.timestamp() + 1).to_string()).unwrap(),
    );
    pacer.observe(first, 200, &headers).await;
    let beside = beside.await.unwrap();
    assert!(beside.is_ok(), "{beside:?}");
}
