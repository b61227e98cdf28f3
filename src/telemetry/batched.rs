//! The log's writer: the threads that log append their lines to one in-memory queue, and
//! one thread writes the queue out in batches, every [`WRITE_INTERVAL`] (or sooner when a batch is
//! large). Logging a line is a lock and a copy: it wakes no thread and makes no system
//! call. (tracing-appender's lossless writer wakes its thread for nearly every line; in
//! `bench/ab.py` that costs the botnet flood's chat_token p99 and peak RSS: see
//! `bench/README.md`.)
//!
//! Lossless: when the queue holds [`QUEUE_LIMIT_BYTES`] bytes (the sink cannot keep up), a thread that
//! logs waits for the writer to take them. Dropping the [`Guard`] writes what is queued,
//! and the line of any thread waiting for room, and stops the thread; lines logged after
//! that are dropped (as they are if the thread ever died).

use std::{
    io::{self, Write},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets a batch gather before it writes it (unless the queue grows to
/// [`WRITE_AT_BYTES`] first): a line waits about this long, plus any write already under way.
pub const WRITE_INTERVAL: Duration = Duration::from_millis(20);
/// A queue this large is written at once, without waiting for [`WRITE_INTERVAL`].
pub const WRITE_AT_BYTES: usize = 256 * 1024;
/// A queue this large makes the threads that log wait until the writer has taken it.
pub const QUEUE_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// The `MakeWriter` for tracing's fmt layer: each event arrives as one `write` of its whole
/// formatted line(s), so lines of different threads never interleave.
#[derive(Clone)]
pub struct Batched(Arc<QueueAndSignals>);

/// Keep it alive until exit: dropping it writes what is queued and stops the thread.
#[must_use = "dropping the guard stops the log writer"]
pub struct Guard {
    shared: Arc<QueueAndSignals>,
    thread: Option<JoinHandle<()>>,
}

/// The queue and the two condition variables its writer and its loggers wait on.
struct QueueAndSignals {
    queue: Mutex<Queue>,
    /// The writer thread waits here: idle, or gathering a batch.
    writer: Condvar,
    /// Threads that log wait here while the queue is full.
    room: Condvar,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    /// The writer thread sleeps until a line arrives (nothing queued): the first line wakes it.
    idle: bool,
    /// Threads waiting for room.
    waiting: usize,
    /// The guard was dropped: write what is queued, then stop.
    closing: bool,
    /// The writer thread has stopped: nothing queued from now on is written.
    stopped: bool,
}

impl QueueAndSignals {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock cannot leave the queue half-written (extend and
        // swap do not panic midway), so a poisoned lock is still a sound queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the writer thread, writing to `sink`.
pub fn spawn<W: Write + Send + 'static>(sink: W) -> io::Result<(Batched, Guard)> {
    spawn_gathering(sink, WRITE_INTERVAL)
}

/// [`spawn`] with a batch gathering for `every` instead of [`WRITE_INTERVAL`].
fn spawn_gathering<W: Write + Send + 'static>(sink: W, every: Duration) -> io::Result<(Batched, Guard)> {
    let shared = Arc::new(QueueAndSignals {
        queue: Mutex::new(Queue { bytes: Vec::with_capacity(WRITE_AT_BYTES), ..Queue::default() }),
        writer: Condvar::new(),
        room: Condvar::new(),
    });
    let thread = std::thread::Builder::new().name("log-writer".into()).spawn({
        let shared = shared.clone();
        move || run(&shared, sink, every)
    })?;
    Ok((Batched(shared.clone()), Guard { shared, thread: Some(thread) }))
}

/// Marks the writer stopped however its thread ends (a panic included), and lets out any
/// thread waiting for room: their lines are then dropped rather than waited on forever.
struct Stopped<'a>(&'a QueueAndSignals);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.room.notify_all();
    }
}

fn run<W: Write>(shared: &QueueAndSignals, mut sink: W, every: Duration) {
    let _stopped = Stopped(shared);
    let mut batch = Vec::with_capacity(WRITE_AT_BYTES);
    loop {
        {
            let mut queue = shared.lock();
            while queue.bytes.is_empty() {
                // Not while a thread waits for room: its line goes in the last batch.
                if queue.closing && queue.waiting == 0 {
                    return;
                }
                queue.idle = true;
                queue = shared.writer.wait(queue).unwrap_or_else(PoisonError::into_inner);
                queue.idle = false;
            }
            // Let the batch gather, unless it is already large or we are closing.
            let until = Instant::now() + every;
            while queue.bytes.len() < WRITE_AT_BYTES && !queue.closing {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                queue = shared.writer.wait_timeout(queue, left).unwrap_or_else(PoisonError::into_inner).0;
            }
            std::mem::swap(&mut queue.bytes, &mut batch);
            if queue.waiting > 0 {
                shared.room.notify_all();
            }
        }
        // Nobody can write stdout's errors anywhere better: a closed stdout loses the
        // lines, as it would for any writer.
        let _ = sink.write_all(&batch).and_then(|()| sink.flush());
        batch.clear();
        // A burst can leave a huge buffer behind: do not keep it.
        batch.shrink_to(WRITE_AT_BYTES);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.writer.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One thread's handle on the queue, for one event.
pub struct Lines<'a>(&'a QueueAndSignals);

impl Write for Lines<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let shared = self.0;
        let mut queue = shared.lock();
        // Closing or not, the queue stays bounded: the writer drains it until nobody waits.
        while queue.bytes.len() >= QUEUE_LIMIT_BYTES && !queue.stopped {
            queue.waiting += 1;
            queue = shared.room.wait(queue).unwrap_or_else(PoisonError::into_inner);
            queue.waiting -= 1;
        }
        if queue.stopped {
            return Ok(buf.len());
        }
        let before = queue.bytes.len();
        queue.bytes.extend_from_slice(buf);
        // Wake the writer only when it sleeps with nothing queued, or when this line made
        // the batch large: never once per line.
        let wake = queue.idle || (before < WRITE_AT_BYTES && queue.bytes.len() >= WRITE_AT_BYTES);
        if wake {
            queue.idle = false;
        }
        drop(queue);
        if wake {
            shared.writer.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = Lines<'a>;

    fn make_writer(&'a self) -> Lines<'a> {
        Lines(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A sink that hands each batch to the test, and can be held shut.
    struct Sink {
        batches: mpsc::Sender<Vec<u8>>,
        gate: Arc<Mutex<()>>,
        /// Told when a write begins (before it waits at the gate).
        began: mpsc::Sender<()>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.began.send(());
            let _open = self.gate.lock().unwrap();
            self.batches.send(buf.to_vec()).unwrap();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn sink() -> (Sink, mpsc::Receiver<Vec<u8>>, Arc<Mutex<()>>) {
        let (sink, batches, gate, _began) = watched_sink();
        (sink, batches, gate)
    }

    /// The sink, its batches, its gate, and word of each write beginning.
    type Watched = (Sink, mpsc::Receiver<Vec<u8>>, Arc<Mutex<()>>, mpsc::Receiver<()>);

    fn watched_sink() -> Watched {
        let (tx, rx) = mpsc::channel();
        let (began_tx, began) = mpsc::channel();
        let gate = Arc::new(Mutex::new(()));
        (Sink { batches: tx, gate: gate.clone(), began: began_tx }, rx, gate, began)
    }

    fn write_line(writer: &Batched, line: &str) {
        writer.make_writer().write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn many_threads_lines_all_arrive_whole_and_in_each_threads_order() {
        let (sink, batches, _gate) = sink();
        let (writer, guard) = spawn(sink).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        write_line(&writer, &format!("thread {t} line {i} {}\n", "x".repeat(i % 97)));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let all: Vec<u8> = batches.try_iter().flatten().collect();
        let text = String::from_utf8(all).unwrap();
        let mut next = [0usize; 8];
        for line in text.lines() {
            let mut words = line.split(' ');
            assert_eq!(words.next(), Some("thread"), "a torn line: {line:?}");
            let t: usize = words.next().unwrap().parse().unwrap();
            assert_eq!(words.next(), Some("line"));
            let i: usize = words.next().unwrap().parse().unwrap();
            assert_eq!(words.next().unwrap().len(), i % 97, "a torn line: {line:?}");
            assert_eq!(i, next[t], "thread {t}'s lines out of order or missing");
            next[t] += 1;
        }
        assert_eq!(next, [5_000; 8], "every line arrives once");
    }

    #[test]
    fn a_lone_line_is_written_without_more_lines_or_a_flush() {
        let (sink, batches, _gate) = sink();
        let (writer, _guard) = spawn(sink).unwrap();
        for round in 0..3 {
            write_line(&writer, &format!("line {round}\n"));
            // Generous: WRITE_INTERVAL is 20 ms; a loaded CI machine may be slow to schedule.
            let batch = batches.recv_timeout(Duration::from_secs(10)).expect("the line was written");
            assert_eq!(batch, format!("line {round}\n").into_bytes());
        }
    }

    #[test]
    fn a_large_batch_is_written_without_waiting_for_the_interval() {
        let (sink, batches, _gate) = sink();
        // A batch would gather for an hour: only reaching WRITE_AT_BYTES can get it written.
        let (writer, _guard) = spawn_gathering(sink, Duration::from_secs(3600)).unwrap();
        let line = "z".repeat(1023) + "\n";
        let lines = WRITE_AT_BYTES / line.len();
        for _ in 0..lines {
            write_line(&writer, &line);
        }
        let batch = batches
            .recv_timeout(Duration::from_secs(30))
            .expect("a batch of WRITE_AT_BYTES bytes was written early");
        assert_eq!(batch.len(), lines * line.len());
    }

    #[test]
    fn a_full_queue_makes_loggers_wait_and_loses_nothing() {
        let (sink, batches, gate) = sink();
        let (writer, guard) = spawn(sink).unwrap();
        // Hold the sink shut: the writer thread blocks in its first write.
        let shut = gate.lock().unwrap();
        write_line(&writer, "first\n");
        let line = "y".repeat(1023) + "\n";
        let (done_tx, done_rx) = mpsc::channel();
        let logger = std::thread::spawn({
            let writer = writer.clone();
            move || {
                // Three times QUEUE_LIMIT_BYTES: more than the queue and the batch in the shut sink's
                // hands can hold together.
                for _ in 0..(3 * QUEUE_LIMIT_BYTES / line.len()) {
                    write_line(&writer, &line);
                }
                done_tx.send(()).unwrap();
            }
        });
        // The logger cannot finish while the sink is shut: it waits for room. (A writer
        // that dropped lines when full would have finished by now.)
        assert!(done_rx.recv_timeout(Duration::from_millis(300)).is_err(), "a logger went past a full queue");
        drop(shut);
        done_rx.recv_timeout(Duration::from_secs(30)).expect("the logger finished once the sink opened");
        logger.join().unwrap();
        drop(guard);
        let total: usize = batches.try_iter().map(|b| b.len()).sum();
        assert_eq!(total, "first\n".len() + 3 * QUEUE_LIMIT_BYTES, "no byte lost");
    }

    #[test]
    fn dropping_the_guard_writes_what_is_queued_and_later_lines_are_dropped() {
        let (sink, batches, gate, began) = watched_sink();
        let (writer, guard) = spawn(sink).unwrap();
        let shut = gate.lock().unwrap();
        write_line(&writer, "a\n");
        // The writer has taken "a" and is stuck in the shut sink: "b" and "c" are queued
        // behind it when the guard goes.
        began.recv_timeout(Duration::from_secs(10)).expect("the writer began writing");
        write_line(&writer, "b\n");
        write_line(&writer, "c\n");
        let closer = std::thread::spawn(move || drop(guard));
        drop(shut);
        closer.join().unwrap();
        let text: Vec<u8> = batches.try_iter().flatten().collect();
        assert_eq!(text, b"a\nb\nc\n");
        write_line(&writer, "after\n");
        assert!(batches.try_recv().is_err(), "a line after the guard went is not written");
    }
}
