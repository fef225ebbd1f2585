//! The script worker pool: a few blocking threads, each owning a QuickJS runtime per
//! (tenant, script, limits) it has run, plus the watchdog that stops a caller from ever
//! hanging, and the fair share that keeps one tenant from taking every worker.
//!
//! Jobs go through one shared queue, but each tenant has at most a share of jobs queued
//! or running at once per [`Lane`] (half the workers, rounded up); its further calls wait up to
//! [`QUEUE_LIMIT`] for one of its own slots, a bounded number of them (see `fair`), and
//! the rest fail at once as overloaded. A tenant whose every call runs to its CPU budget
//! therefore slows only itself. Budgets are CPU time of the worker thread, checked by
//! the interrupt (see `budget`). Budgets are CPU time of the worker thread, checked by
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

use super::budget::wall_cap;
pub(crate) use super::fair::Lane;
use super::fair::{Fair, Slot};
use super::sandbox::{Answer, Sandbox, ScriptError, ScriptInput};
use crate::spec::{ScriptLimits, ScriptParam, ScriptRule};
use crate::violation::ScriptFailure;

/// Extra time the watchdog grants beyond the wall-clock caps of a job's phases (which the
/// interrupt enforces itself) before it declares the worker stuck: the interrupt answers
/// first whenever the script reaches an interrupt check at all.
pub(crate) const WATCHDOG_MARGIN: Duration = Duration::from_millis(250);
/// How long a job may wait for a free worker before it is cancelled as "overloaded".
const QUEUE_LIMIT: Duration = Duration::from_secs(1);
/// How often a waiting caller looks at its job's phase (the reply itself wakes it at once).
const POLL: Duration = Duration::from_millis(5);
/// Runtimes kept per worker (least recently used is dropped first).
const CACHE_CAPACITY: usize = 32;
/// Native stack of a worker thread: above the largest QuickJS stack cap allowed (16 MiB),
/// so QuickJS's own stack check always fires before the thread's guard page.
const WORKER_STACK: usize = 24 * 1024 * 1024;
/// Retired workers still running (stuck in native code) beyond which no more replacements
/// are started until some of them exit; bounds the threads a hostile script can pin.
const MAX_STUCK: usize = 8;
/// A runtime whose heap has grown past this share of its cap (garbage the dropped contexts
/// left) is rebuilt; the collector runs after every call, so this is a backstop.
const GROWTH_DIVISOR: i64 = 2;
/// The heap is measured every this many calls (measuring walks the heap: a few µs).
const GROWTH_CHECK_EVERY: u64 = 16;

/// A tenant's script to run: owner, source, declared params and limits, identified by a
/// hash of owner, source and limits.
#[derive(Debug)]
pub(crate) struct Program {
    /// The tenant the script belongs to: part of the cache key and of the fair share.
    pub tenant: Arc<str>,
    /// The tenant's script source.
    pub source: Arc<str>,
    /// The params its violations may carry.
    pub params: Arc<[ScriptParam]>,
    /// Its sandbox limits.
    pub limits: ScriptLimits,
    /// Hash of tenant, source and limits: the cache key (all three are compared on a hit).
    pub hash: u64,
}

impl Program {
    /// Wraps a script rule.
    pub(crate) fn new(rule: &ScriptRule) -> Self {
        let mut hasher = DefaultHasher::new();
        rule.tenant.hash(&mut hasher);
        rule.source.hash(&mut hasher);
        rule.limits.timeout_ms.hash(&mut hasher);
        rule.limits.memory_bytes.hash(&mut hasher);
        rule.limits.stack_bytes.hash(&mut hasher);
        Self {
            tenant: Arc::from(rule.tenant.as_str()),
            source: Arc::from(rule.source.as_str()),
            params: Arc::from(rule.params.as_slice()),
            limits: rule.limits,
            hash: hasher.finish(),
        }
    }

    /// Whether a runtime made for `other` may serve `self`: same tenant, source and limits.
    fn same_as(&self, other: &Program) -> bool {
        self.hash == other.hash
            && self.tenant == other.tenant
            && self.limits == other.limits
            && self.source == other.source
    }
}

/// CPU budget of one job, and its wall-clock cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallBudget {
    /// CPU time of the worker thread.
    pub cpu: Duration,
    /// Wall-clock cap (the interrupt's backstop; the watchdog adds its margin).
    pub wall: Duration,
}

/// What a job asks the worker to do.
#[derive(Debug)]
enum Task {
    /// Load the script (compile time): syntax, top level, `validate` present.
    Load(CallBudget),
    /// Run `validate` on an input.
    Run(ScriptInput, CallBudget),
}

/// Where a queued job is; shared by the caller (watchdog) and the worker.
#[derive(Debug)]
enum Phase {
    Queued,
    Cancelled,
    Started {
        /// When the job's work (a load or a call) began.
        at: Instant,
        worker: Arc<Worker>,
        /// Wall-clock cap of that work (its budget's `wall`).
        window: Duration,
    },
}

#[derive(Debug)]
struct Job {
    program: Arc<Program>,
    task: Task,
    phase: Arc<Mutex<Phase>>,
    reply: SyncSender<Result<Answer, ScriptError>>,
    /// The tenant's slot, freed when the worker is done with the job (before it replies,
    /// so the same caller's next call finds it free).
    slot: Slot,
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
    /// Workers preparing their next context after a reply (no caller watches that work):
    /// waiting callers retire one past its window + [`WATCHDOG_MARGIN`], as they would a
    /// stuck call, so a top level stuck in a native builtin costs a replacement, not a
    /// worker.
    preparing: Mutex<Vec<Preparing>>,
}

/// A worker preparing a spare context since `at`, within `window` of wall-clock time.
#[derive(Debug)]
struct Preparing {
    worker: Arc<Worker>,
    at: Instant,
    window: Duration,
}

/// The process-wide pool. Scripts are per tenant, the pool is not: a few threads serve all,
/// each tenant with a bounded share of them.
#[derive(Debug)]
pub(crate) struct Pool {
    jobs: Sender<Job>,
    shared: Arc<Shared>,
    fair: Arc<Fair>,
}

static POOL: LazyLock<Pool> = LazyLock::new(Pool::boot);

/// The pool, started on first use with one worker per core (at least two).
pub(crate) fn pool() -> &'static Pool {
    &POOL
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
            preparing: Mutex::new(Vec::new()),
        });
        let workers = thread::available_parallelism().map_or(2, |n| n.get().max(2));
        for _ in 0..workers {
            spawn_worker(&shared);
        }
        let fair = Arc::new(Fair::new(workers.div_ceil(2)));
        Self { jobs, shared, fair }
    }

    /// Workers retired by the watchdog since the process started.
    pub(crate) fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Loads `program` on a worker (compile-time validation) and returns the CPU time its
    /// top level used.
    pub(crate) fn load(
        &'static self,
        program: &Arc<Program>,
        budget: CallBudget,
    ) -> Result<Duration, ScriptError> {
        self.submit(program, Task::Load(budget), Lane::Compile)
            .wait()
            .map(|answer| answer.cpu)
    }

    /// Queues a `validate` run under `budget` of CPU time and returns at once, so the caller
    /// can run the other rules while a worker runs the script; [`Pending::wait`] collects the
    /// answer.
    pub(crate) fn run(
        &'static self,
        program: &Arc<Program>,
        input: ScriptInput,
        budget: CallBudget,
        lane: Lane,
    ) -> Pending {
        self.submit(program, Task::Run(input, budget), lane)
    }

    /// Queues `task` once the tenant has a free slot (see [`Fair::admit`]); without one the
    /// job is never queued and its answer is "overloaded".
    fn submit(&'static self, program: &Arc<Program>, task: Task, lane: Lane) -> Pending {
        let (reply, answer) = mpsc::sync_channel(1);
        let phase = Arc::new(Mutex::new(Phase::Queued));
        let sent = match self.fair.admit(&program.tenant, lane, QUEUE_LIMIT) {
            Some(slot) => {
                let job = Job {
                    program: Arc::clone(program),
                    task,
                    phase: Arc::clone(&phase),
                    reply,
                    slot,
                };
                self.jobs.send(job).is_ok()
            }
            None => false,
        };
        Pending {
            pool: self,
            answer,
            phase,
            queued_at: Instant::now(),
            sent,
        }
    }

    /// Retires every worker whose preparation of a spare context ran past its window plus
    /// [`WATCHDOG_MARGIN`].
    fn retire_stuck_preparers(&self) {
        let late: Vec<Arc<Worker>> = {
            let mut preparing = lock(&self.shared.preparing);
            let (late, on_time) = preparing
                .drain(..)
                .partition(|p| p.at.elapsed() >= p.window + WATCHDOG_MARGIN);
            *preparing = on_time;
            late.into_iter().map(|p| p.worker).collect()
        };
        for worker in late {
            self.retire(&worker);
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
    /// `false` when the tenant had no free slot or the queue was closed.
    sent: bool,
}

impl Pending {
    /// Waits for the worker's answer, never longer than the queue limit plus the wall-clock
    /// caps of the job's phases plus the watchdog margin: a job still queued after
    /// [`QUEUE_LIMIT`] is cancelled (overloaded); a worker past its phase's cap + margin is
    /// retired and replaced (timeout).
    pub(crate) fn wait(self) -> Result<Answer, ScriptError> {
        let overloaded = || {
            ScriptError::new(
                ScriptFailure::Overloaded,
                "no script worker was free within this tenant's share",
            )
        };
        if !self.sent {
            return Err(overloaded());
        }
        loop {
            match self.answer.recv_timeout(POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ScriptError::new(
                        ScriptFailure::Exception,
                        "the script worker stopped",
                    ));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.pool.retire_stuck_preparers();
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
            return Err(ScriptError::new(
                ScriptFailure::Timeout,
                format!(
                    "the script did not finish within {} ms of wall-clock time (stopped by the \
                     watchdog)",
                    waited.as_millis()
                ),
            ));
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
        let Job {
            program,
            task,
            phase,
            reply,
            slot,
        } = match lock(&shared.queue).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Each phase (load, call) restarts the watchdog's clock with that phase's window.
        let enter = |window: Duration| {
            let mut phase = lock(&phase);
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
        let result = catch_unwind(AssertUnwindSafe(|| cache.handle(&program, &task, &enter)))
            .unwrap_or_else(|_| {
                cache = Cache::default();
                Err(ScriptError::new(
                    ScriptFailure::Exception,
                    "internal error in the script worker",
                ))
            });
        drop(slot);
        // The caller may have given up already; then nobody reads the reply.
        let _ = reply.send(result);
        let watch = |window: Option<Duration>| {
            let mut preparing = lock(&shared.preparing);
            preparing.retain(|p| !Arc::ptr_eq(&p.worker, &me));
            if let Some(window) = window {
                preparing.push(Preparing {
                    worker: Arc::clone(&me),
                    at: Instant::now(),
                    window,
                });
            }
        };
        cache.maintain(&watch);
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

/// The runtimes of one worker, one per (tenant, script, limits), least recently used
/// evicted first. A runtime holds no script state between calls (each call has its own
/// context); keeping it only saves building the runtime and its caps again.
#[derive(Debug, Default)]
struct Cache {
    entries: Vec<Entry>,
    tick: u64,
    /// A runtime to look at after the reply.
    due: Option<Due>,
}

/// What to do with a runtime after the reply.
#[derive(Debug)]
struct Due {
    program: Arc<Program>,
    /// The job hit a limit: drop the runtime.
    poisoned: bool,
    /// Measure the heap (every [`GROWTH_CHECK_EVERY`] jobs).
    measure: bool,
    /// Prepare the next call's context.
    prepare: bool,
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

    /// Runs `task` in a fresh context of the program's runtime (built first if this worker
    /// has none); `enter` tells the watchdog the wall-clock window as the work starts.
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
                self.entries.push(Entry {
                    program: Arc::clone(program),
                    sandbox: Sandbox::new(program.limits)?,
                    last_used: 0,
                    calls: 0,
                });
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[index];
        entry.last_used = self.tick;
        entry.calls += 1;
        let result = match task {
            Task::Load(budget) => {
                enter(budget.wall);
                entry
                    .sandbox
                    .load(&program.source, budget.cpu, budget.wall)
                    .map(|cpu| Answer {
                        keys: Vec::new(),
                        cpu,
                    })
            }
            Task::Run(input, budget) => {
                enter(budget.wall);
                entry.sandbox.call(
                    &program.source,
                    &program.params,
                    input,
                    budget.cpu,
                    budget.wall,
                )
            }
        };
        let poisoned = matches!(&result, Err(e) if e.kind.poisons_runtime());
        let measure = entry.calls.is_multiple_of(GROWTH_CHECK_EVERY);
        self.due = Some(Due {
            program: Arc::clone(program),
            poisoned,
            measure,
            // Only after a check: compile-time loads stay within their document's budget.
            prepare: matches!(task, Task::Run(..)),
        });
        result
    }

    /// Housekeeping done after the reply is sent, so the caller does not wait for it: free
    /// the garbage of the call's context, drop a runtime that hit a limit or grew past half
    /// its cap, prepare the next call's fresh context (see [`Sandbox::prepare`]), and evict the least recently used runtimes beyond [`CACHE_CAPACITY`].
    /// `watch` is told the wall-clock window before a preparation and `None` after it.
    fn maintain(&mut self, watch: &dyn Fn(Option<Duration>)) {
        if let Some(Due {
            program,
            poisoned,
            measure,
            prepare,
        }) = self.due.take()
            && let Some(index) = self.position(&program)
        {
            let sandbox = &self.entries[index].sandbox;
            let limit = i64::try_from(program.limits.memory_bytes).unwrap_or(i64::MAX);
            if poisoned {
                self.entries.swap_remove(index);
            } else {
                sandbox.collect_garbage();
                if measure && sandbox.memory_used() > limit / GROWTH_DIVISOR {
                    self.entries.swap_remove(index);
                } else if prepare {
                    let cpu = Duration::from_millis(program.limits.timeout_ms);
                    watch(Some(wall_cap(cpu)));
                    sandbox.prepare(&program.source, cpu, wall_cap(cpu));
                    watch(None);
                }
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
