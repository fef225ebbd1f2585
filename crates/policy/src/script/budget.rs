//! Time budgets of script evaluations, in CPU time of the worker thread.
//!
//! A wall-clock budget flakes on a loaded machine: a worker descheduled for 40 ms of its
//! 50 ms has not misbehaved. So the interrupt compares the thread's CPU clock
//! (`CLOCK_THREAD_CPUTIME_ID`) with the budget, and wall-clock time only bounds it loosely
//! ([`wall_cap`]), as a backstop that load cannot reach by accident.
//!
//! Reading the thread CPU clock is a system call (~1 µs on the reference VM, where a warm
//! `validate` call costs ~6 µs), so a call does not read it up front: the CPU clock starts
//! at the interrupt handler's first poll, which QuickJS makes every 10,000 function calls or
//! loop iterations. A call short enough never to be polled never pays for the clock; a long
//! one gets its budget counted from its first poll, i.e. at most one polling interval late.

use std::cell::Cell;
use std::time::{Duration, Instant};

use nix::time::{ClockId, clock_gettime};

/// CPU time one tenant document's script gets at compile time, for its top level and all
/// of its `examples:` together: one admin request cannot buy more than this, however many
/// examples it lists.
pub const DOCUMENT_CPU: Duration = Duration::from_secs(2);
/// Wall-clock cap of one document's script work (load and examples together): a backstop
/// for a machine so loaded that CPU time barely advances.
pub const DOCUMENT_WALL: Duration = Duration::from_secs(10);

/// What is left of one document's compile-time budget ([`DOCUMENT_CPU`], [`DOCUMENT_WALL`]).
/// The script's load and each example draw from it, in order, on the compiling thread.
#[derive(Debug)]
pub(crate) struct DocumentBudget {
    cpu_left: Cell<Duration>,
    wall_until: Instant,
}

impl DocumentBudget {
    /// A full budget, its wall clock starting now.
    pub(crate) fn new() -> Self {
        Self {
            cpu_left: Cell::new(DOCUMENT_CPU),
            wall_until: Instant::now() + DOCUMENT_WALL,
        }
    }

    /// CPU and wall-clock time left (zero when spent).
    pub(crate) fn left(&self) -> (Duration, Duration) {
        (
            self.cpu_left.get(),
            self.wall_until.saturating_duration_since(Instant::now()),
        )
    }

    /// Whether nothing is left to run with.
    pub(crate) fn spent(&self) -> bool {
        let (cpu, wall) = self.left();
        cpu.is_zero() || wall.is_zero()
    }

    /// Records `cpu` used by a load or an example.
    pub(crate) fn spend(&self, cpu: Duration) {
        self.cpu_left.set(self.cpu_left.get().saturating_sub(cpu));
    }
}

/// Wall-clock time allowed for a CPU budget: ten times the budget plus one second, so only a
/// script that is really stuck (or a machine beyond overloaded) reaches it.
pub(crate) fn wall_cap(cpu: Duration) -> Duration {
    cpu.saturating_mul(10)
        .saturating_add(Duration::from_secs(1))
}

/// CPU time the calling thread has used, `None` if the OS cannot tell (then the budget falls
/// back to wall-clock time).
fn thread_cpu_time() -> Option<Duration> {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .ok()
        .map(Duration::from)
}

/// The budget of the evaluation running on this thread, checked by the interrupt handler.
#[derive(Debug, Default)]
pub(crate) struct Deadline {
    /// `None` while no evaluation runs.
    current: Cell<Option<Running>>,
    /// Set when the handler interrupted the script: the failure is then a timeout whatever
    /// exception surfaced.
    fired: Cell<bool>,
}

#[derive(Debug, Clone, Copy)]
struct Running {
    budget: Duration,
    /// Wall-clock cap (normally [`wall_cap`] of the budget).
    wall: Duration,
    started: Instant,
    cpu_started: CpuStart,
}

/// Where the CPU budget is counted from.
#[derive(Debug, Clone, Copy)]
enum CpuStart {
    /// Not polled yet: the first poll reads the clock.
    Unread,
    /// Thread CPU time at the first poll.
    At(Duration),
    /// The OS has no thread CPU clock: the budget is wall-clock time from the start.
    Unavailable,
}

impl Deadline {
    /// Starts an evaluation with `budget` of CPU time and `wall` of wall-clock time; clears
    /// the fired flag.
    pub(crate) fn start(&self, budget: Duration, wall: Duration) {
        self.fired.set(false);
        self.current.set(Some(Running {
            budget,
            wall,
            started: Instant::now(),
            cpu_started: CpuStart::Unread,
        }));
    }

    /// Ends the evaluation and returns the CPU time it used as far as the clock saw it:
    /// from the first poll on (zero for a call too short to be polled). The handler lets
    /// everything run until the next [`Self::start`].
    pub(crate) fn stop(&self) -> Duration {
        match self.current.take().map(|r| r.cpu_started) {
            Some(CpuStart::At(start)) => thread_cpu_time()
                .map(|now| now.saturating_sub(start))
                .unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    /// Whether the interrupt handler stopped the script since the last [`Self::start`].
    pub(crate) fn fired(&self) -> bool {
        self.fired.get()
    }

    /// The interrupt handler's question: has the running evaluation used its budget (CPU
    /// time, or its wall-clock cap)? Records the answer for [`Self::fired`].
    pub(crate) fn expired(&self) -> bool {
        let Some(running) = self.current.get() else {
            return false;
        };
        let elapsed = running.started.elapsed();
        let expired = elapsed >= running.wall
            || match running.cpu_started {
                CpuStart::Unread => {
                    let cpu_started = thread_cpu_time().map_or(CpuStart::Unavailable, CpuStart::At);
                    self.current.set(Some(Running {
                        cpu_started,
                        ..running
                    }));
                    false
                }
                CpuStart::At(start) => {
                    thread_cpu_time().is_none_or(|now| now.saturating_sub(start) >= running.budget)
                }
                CpuStart::Unavailable => elapsed >= running.budget,
            };
        if expired {
            self.fired.set(true);
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::{Deadline, DocumentBudget, thread_cpu_time, wall_cap};
    use std::time::Duration;

    #[test]
    fn the_cpu_clock_counts_this_threads_work_only() {
        let before = thread_cpu_time().unwrap_or_default();
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu_time().unwrap_or_default().saturating_sub(before);
        assert!(
            slept < Duration::from_millis(20),
            "sleeping used {slept:?} of CPU"
        );
    }

    #[test]
    fn a_sleeping_evaluation_is_not_out_of_budget() {
        let deadline = Deadline::default();
        deadline.start(Duration::from_millis(5), wall_cap(Duration::from_millis(5)));
        assert!(!deadline.expired(), "the first poll starts the CPU clock");
        std::thread::sleep(Duration::from_millis(20));
        assert!(!deadline.expired(), "waiting is not spending");
        assert!(!deadline.fired());
        let start = std::time::Instant::now();
        while !deadline.expired() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "busy work must expire"
            );
        }
        assert!(deadline.fired());
        assert!(
            deadline.stop() >= Duration::from_millis(5),
            "the busy part is counted"
        );
        assert!(!deadline.expired());
        deadline.start(Duration::from_millis(5), wall_cap(Duration::from_millis(5)));
        assert_eq!(
            deadline.stop(),
            Duration::ZERO,
            "never polled: nothing measured"
        );
    }

    #[test]
    fn caps_and_document_budgets() {
        assert_eq!(
            wall_cap(Duration::from_millis(50)),
            Duration::from_millis(1_500)
        );
        let document = DocumentBudget::new();
        document.spend(Duration::from_millis(1_500));
        assert_eq!(document.left().0, Duration::from_millis(500));
        assert!(!document.spent());
        document.spend(Duration::from_secs(1));
        assert!(document.spent());
    }
}
