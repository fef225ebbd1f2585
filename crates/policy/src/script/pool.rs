//! The script worker pool: a few blocking threads, each owning the QuickJS runtimes of the
//! scripts it has loaded, plus the watchdog that stops a caller from ever hanging.
//!
//! Jobs go through one shared queue. Budgets are CPU time of the worker thread, checked by
//! the interrupt (see `budget`). The caller waits for the reply; if the worker that took the
//! job has not answered within the wall-clock caps of the job's phases plus
//! [`WATCHDOG_MARGIN`] (a long native builtin can run without reaching QuickJS's interrupt
//! check), the caller gives up with a timeout, retires that worker and starts a
//! replacement. The retired thread exits as soon as its native call returns. If the job
//! never left the queue within [`QUEUE_LIMIT`], it is cancelled and reported as overloaded.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::budget::{one_off, wall_cap};
use super::sandbox::{Answer, SEAL_BUDGET, Sandbox, ScriptError, ScriptInput};
use crate::spec::ScriptLimits;
use crate::violation::ScriptFailure;

/// Extra time the watchdog grants beyond the wall-clock caps of a job's phases (which the
/// interrupt enforces itself) before it declares the worker stuck: the interrupt answers
/// first whenever the script reaches an interrupt check at all.
pub(crate) const WATCHDOG_MARGIN: Duration = Duration::from_millis(250);
/// How long a job may wait for a free worker before it is cancelled as "overloaded".
const QUEUE_LIMIT: Duration = Duration::from_secs(1);
/// How often a waiting caller looks at its job's phase (the reply itself wakes it at once).
const POLL: Duration = Duration::from_millis(5);
/// Scripts kept loaded per worker (least recently used is dropped first).
const CACHE_CAPACITY: usize = 32;
/// Native stack of a worker thread: above the largest QuickJS stack cap allowed (16 MiB),
/// so QuickJS's own stack check always fires before the thread's guard page.
const WORKER_STACK: usize = 24 * 1024 * 1024;
/// Retired workers still running (stuck in native code) beyond which no more replacements
/// are started until some of them exit; bounds the threads a hostile script can pin.
const MAX_STUCK: usize = 8;
/// A loaded script whose heap has grown past this share of its cap between calls is
/// rebuilt, so state a script accumulates (in closures or top-level `let`, which the seal
/// cannot freeze) cannot push later calls into out-of-memory.
const GROWTH_DIVISOR: i64 = 2;
/// The heap is measured every this many calls (measuring walks the heap: a few µs).
const GROWTH_CHECK_EVERY: u64 = 16;

/// A script to run: the source with its limits, identified by a hash of both.
#[derive(Debug)]
pub(crate) struct Program {
    /// The tenant's script source.
    pub source: Arc<str>,
    /// Its sandbox limits.
    pub limits: ScriptLimits,
    /// Hash of source and limits: the cache key (the source is compared too on a hit).
    pub hash: u64,
}

impl Program {
    /// Wraps a source and its limits.
    pub(crate) fn new(source: &str, limits: ScriptLimits) -> Self {
        let mut hasher = DefaultHasher::new();
        source.hash(&mut hasher);
        limits.timeout_ms.hash(&mut hasher);
        limits.memory_bytes.hash(&mut hasher);
        limits.stack_bytes.hash(&mut hasher);
        Self {
            source: Arc::from(source),
            limits,
            hash: hasher.finish(),
        }
    }

    fn same_as(&self, other: &Program) -> bool {
        self.hash == other.hash && self.limits == other.limits && self.source == other.source
    }
}

/// What a job asks the worker to do.
#[derive(Debug)]
enum Task {
    /// Load the script (compile time): syntax, top level, `validate` present.
    Load,
    /// Run `validate` on an input, with this CPU budget.
    Run(ScriptInput, Duration),
}

/// Where a queued job is; shared by the caller (watchdog) and the worker.
#[derive(Debug)]
enum Phase {
    Queued,
    Cancelled,
    Started {
        /// When the current phase (loading the script, or the call) began.
        at: Instant,
        worker: Arc<Worker>,
        /// Wall-clock cap of the current phase: the call's, or the top level's plus the
        /// seal's while the worker loads the script.
        window: Duration,
    },
}

#[derive(Debug)]
struct Job {
    program: Arc<Program>,
    task: Task,
    phase: Arc<Mutex<Phase>>,
    reply: SyncSender<Result<Answer, ScriptError>>,
}

/// A worker's identity, shared with the jobs it runs so the watchdog can retire it.
#[derive(Debug)]
struct Worker {
    /// Set by the watchdog: finish the current job, then exit.
    retired: AtomicBool,
}

/// State shared by the pool handle and every worker thread.
#[derive(Debug)]
struct Shared {
    /// The job queue; workers take turns receiving.
    queue: Mutex<Receiver<Job>>,
    /// Workers retired but not yet exited.
    stuck: AtomicUsize,
    /// Replacements owed because [`MAX_STUCK`] was reached; started when a stuck one exits.
    owed: AtomicUsize,
    /// Workers retired by the watchdog since start (a metric).
    restarts: AtomicU64,
    /// Thread name counter.
    next_id: AtomicU64,
}

/// The process-wide pool. Scripts are per tenant, the pool is not: a few threads serve all.
#[derive(Debug)]
pub(crate) struct Pool {
    jobs: Sender<Job>,
    shared: Arc<Shared>,
}

static POOL: LazyLock<Pool> = LazyLock::new(Pool::boot);

/// The pool, started on first use with one worker per core (at least two).
pub(crate) fn pool() -> &'static Pool {
    &POOL
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data half-updated (each
    // critical section is a single assignment or a `recv`), so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    fn boot() -> Self {
        let (jobs, queue) = mpsc::channel();
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            stuck: AtomicUsize::new(0),
            owed: AtomicUsize::new(0),
            restarts: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
        });
        let workers = thread::available_parallelism().map_or(2, |n| n.get().max(2));
        for _ in 0..workers {
            spawn_worker(&shared);
        }
        Self { jobs, shared }
    }

    /// Workers retired by the watchdog since the process started.
    pub(crate) fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Loads `program` on a worker (compile-time validation).
    pub(crate) fn load(&'static self, program: &Arc<Program>) -> Result<(), ScriptError> {
        self.submit(program, Task::Load).wait().map(|_| ())
    }

    /// Queues a `validate` run under `budget` of CPU time and returns at once, so the caller
    /// can run the other rules while a worker runs the script; [`Pending::wait`] collects the
    /// answer.
    pub(crate) fn run(
        &'static self,
        program: &Arc<Program>,
        input: ScriptInput,
        budget: Duration,
    ) -> Pending {
        self.submit(program, Task::Run(input, budget))
    }

    fn submit(&'static self, program: &Arc<Program>, task: Task) -> Pending {
        let (reply, answer) = mpsc::sync_channel(1);
        let phase = Arc::new(Mutex::new(Phase::Queued));
        let job = Job {
            program: Arc::clone(program),
            task,
            phase: Arc::clone(&phase),
            reply,
        };
        let sent = self.jobs.send(job).is_ok();
        Pending {
            pool: self,
            answer,
            phase,
            queued_at: Instant::now(),
            sent,
        }
    }

    /// Marks a stuck worker retired and starts a replacement (or owes one).
    fn retire(&self, worker: &Worker) {
        if worker.retired.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared.restarts.fetch_add(1, Ordering::Relaxed);
        let stuck = self.shared.stuck.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::warn!(
            target: "passgate::policy::script",
            stuck,
            "script worker did not answer within its budget; retired and replaced"
        );
        if stuck <= MAX_STUCK {
            spawn_worker(&self.shared);
        } else {
            self.shared.owed.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A queued or running job whose answer has not been collected yet.
#[derive(Debug)]
pub(crate) struct Pending {
    pool: &'static Pool,
    answer: Receiver<Result<Answer, ScriptError>>,
    phase: Arc<Mutex<Phase>>,
    queued_at: Instant,
    /// `false` when the queue was closed (no worker could ever answer).
    sent: bool,
}

impl Pending {
    /// Waits for the worker's answer, never longer than the queue limit plus the wall-clock
    /// caps of the job's phases plus the watchdog margin: a job still queued after
    /// [`QUEUE_LIMIT`] is cancelled (overloaded); a worker past its phase's cap + margin is
    /// retired and replaced (timeout).
    pub(crate) fn wait(self) -> Result<Answer, ScriptError> {
        let overloaded = || ScriptError {
            kind: ScriptFailure::Overloaded,
            message: "no script worker was free".to_owned(),
            line: None,
        };
        if !self.sent {
            return Err(overloaded());
        }
        loop {
            match self.answer.recv_timeout(POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ScriptError {
                        kind: ScriptFailure::Exception,
                        message: "the script worker stopped".to_owned(),
                        line: None,
                    });
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let mut phase = lock(&self.phase);
            let (stuck_worker, waited) = match &*phase {
                Phase::Queued if self.queued_at.elapsed() >= QUEUE_LIMIT => {
                    *phase = Phase::Cancelled;
                    return Err(overloaded());
                }
                Phase::Started { at, worker, window }
                    if at.elapsed() >= *window + WATCHDOG_MARGIN =>
                {
                    (Arc::clone(worker), at.elapsed())
                }
                Phase::Cancelled => return Err(overloaded()),
                _ => continue,
            };
            drop(phase);
            if let Ok(result) = self.answer.try_recv() {
                return result;
            }
            self.pool.retire(&stuck_worker);
            return Err(ScriptError {
                kind: ScriptFailure::Timeout,
                message: format!(
                    "the script did not finish within {} ms of wall-clock time (stopped by the \
                     watchdog)",
                    waited.as_millis()
                ),
                line: None,
            });
        }
    }
}

fn spawn_worker(shared: &Arc<Shared>) {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let shared_for_thread = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name(format!("passgate-js-{id}"))
        .stack_size(WORKER_STACK)
        .spawn(move || worker_loop(&shared_for_thread));
    if let Err(error) = spawned {
        tracing::error!(target: "passgate::policy::script", %error, "cannot start a script worker");
    }
}

fn worker_loop(shared: &Arc<Shared>) {
    let me = Arc::new(Worker {
        retired: AtomicBool::new(false),
    });
    let mut cache = Cache::default();
    loop {
        let job = match lock(&shared.queue).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Each phase (load, call) restarts the watchdog's clock with that phase's window.
        let enter = |window: Duration| {
            let mut phase = lock(&job.phase);
            if matches!(*phase, Phase::Cancelled) {
                return false;
            }
            *phase = Phase::Started {
                at: Instant::now(),
                worker: Arc::clone(&me),
                window,
            };
            true
        };
        if !enter(Duration::ZERO) {
            continue;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            cache.handle(&job.program, &job.task, &enter)
        }))
        .unwrap_or_else(|_| {
            cache = Cache::default();
            Err(ScriptError {
                kind: ScriptFailure::Exception,
                message: "internal error in the script worker".to_owned(),
                line: None,
            })
        });
        // The caller may have given up already; then nobody reads the reply.
        let _ = job.reply.send(result);
        cache.maintain();
        if me.retired.load(Ordering::SeqCst) {
            drop(cache);
            shared.stuck.fetch_sub(1, Ordering::SeqCst);
            let owed = shared
                .owed
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if owed.is_ok() {
                spawn_worker(shared);
            }
            return;
        }
    }
}

/// The scripts one worker has loaded, least recently used evicted first.
#[derive(Debug, Default)]
struct Cache {
    entries: Vec<Entry>,
    tick: u64,
    /// A script to look at after the reply: `(program, hit a limit)`.
    due: Option<(Arc<Program>, bool)>,
}

#[derive(Debug)]
struct Entry {
    program: Arc<Program>,
    sandbox: Sandbox,
    last_used: u64,
    calls: u64,
}

impl Cache {
    fn position(&self, program: &Arc<Program>) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| Arc::ptr_eq(&e.program, program) || e.program.same_as(program))
    }

    /// Runs `task`, loading the script first if this worker has not; `enter` tells the
    /// watchdog the wall-clock window of each phase as it starts.
    fn handle(
        &mut self,
        program: &Arc<Program>,
        task: &Task,
        enter: &dyn Fn(Duration) -> bool,
    ) -> Result<Answer, ScriptError> {
        self.tick += 1;
        let index = match self.position(program) {
            Some(index) => index,
            None => {
                // The top level has no input: it passed at compile time under the same
                // one-off budget, so it passes here too.
                let load = one_off(Duration::from_millis(program.limits.timeout_ms));
                enter(wall_cap(load) + wall_cap(SEAL_BUDGET));
                let sandbox = Sandbox::load(&program.source, program.limits, load)?;
                self.entries.push(Entry {
                    program: Arc::clone(program),
                    sandbox,
                    last_used: 0,
                    calls: 0,
                });
                self.entries.len() - 1
            }
        };
        self.entries[index].last_used = self.tick;
        let Task::Run(input, budget) = task else {
            return Ok(Answer {
                keys: Vec::new(),
                cpu: Duration::ZERO,
            });
        };
        let entry = &mut self.entries[index];
        entry.calls += 1;
        enter(wall_cap(*budget));
        let result = entry.sandbox.call(input, *budget);
        let poisoned = matches!(&result, Err(e) if e.kind.poisons_runtime());
        if poisoned || entry.calls.is_multiple_of(GROWTH_CHECK_EVERY) {
            self.due = Some((Arc::clone(program), poisoned));
        }
        result
    }

    /// Housekeeping done after the reply is sent, so the caller does not wait for it:
    /// drop a runtime that hit a limit or grew past half its cap, and evict the least
    /// recently used scripts beyond [`CACHE_CAPACITY`].
    fn maintain(&mut self) {
        if let Some((program, poisoned)) = self.due.take()
            && let Some(index) = self.position(&program)
        {
            let limit = i64::try_from(program.limits.memory_bytes).unwrap_or(i64::MAX);
            if poisoned || self.entries[index].sandbox.memory_used() > limit / GROWTH_DIVISOR {
                self.entries.swap_remove(index);
            }
        }
        while self.entries.len() > CACHE_CAPACITY {
            let oldest = (0..self.entries.len()).min_by_key(|&i| self.entries[i].last_used);
            match oldest {
                Some(oldest) => drop(self.entries.swap_remove(oldest)),
                None => break,
            }
        }
    }
}
