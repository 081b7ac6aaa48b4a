//! Log lines are appended to a shared buffer that a background thread writes out every few
//! milliseconds, so that a request never waits on stdout and lines leave in large writes.
//!
//! Written here rather than taken from `tracing-appender`: its worker waits for each line on a
//! channel that spins and calls `sched_yield` between lines, and under load it never sleeps —
//! 10 % of the server's CPU at 40,000 requests/s on this 2-core machine (`perf`), more than the
//! formatting of the lines itself. Here the writer sleeps between batches and is woken early only
//! when a batch grows large.

use std::{
    io::{self, Write},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::JoinHandle,
    time::Duration,
};

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in the buffer before it is written.
const INTERVAL: Duration = Duration::from_millis(10);
/// A batch this large is written without waiting for the interval.
const EARLY_WRITE_BYTES: usize = 256 * 1024;
/// Past this, while the output cannot keep up, new lines are dropped and counted rather than
/// growing memory without bound.
const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    dropped: u64,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves whole lines behind: the buffer is still usable.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer given to the log formatter; cheap to clone.
#[derive(Clone)]
pub struct BatchWriter(Arc<Shared>);

/// Writes what is still buffered and stops the thread when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the thread that writes batches to `output`.
pub fn spawn(output: impl Write + Send + 'static) -> (BatchWriter, FlushGuard) {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name("caly-log-writer".into())
        .spawn({
            let shared = shared.clone();
            move || write_batches(&shared, output)
        })
        .expect("spawning the log writer thread");
    (BatchWriter(shared.clone()), FlushGuard { shared, thread: Some(thread) })
}

fn write_batches(shared: &Shared, mut output: impl Write) {
    let mut batch = Vec::new();
    loop {
        let (dropped, closed) = {
            let pending = shared.lock();
            let (mut pending, _) = shared
                .wake
                .wait_timeout_while(pending, INTERVAL, |p| !p.closed && p.lines.len() < EARLY_WRITE_BYTES)
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::swap(&mut pending.lines, &mut batch);
            (std::mem::take(&mut pending.dropped), pending.closed)
        };
        if dropped > 0 {
            let _ =
                writeln!(output, "{{\"level\":\"WARN\",\"message\":\"{dropped} log lines dropped: output too slow\"}}");
        }
        // Nothing useful can be done when the log output itself fails.
        let _ = output.write_all(&batch).and_then(|()| output.flush());
        batch.clear();
        if closed {
            return;
        }
    }
}

impl Write for &BatchWriter {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut pending = self.0.lock();
        if pending.lines.len() + line.len() > MAX_PENDING_BYTES {
            pending.dropped += 1;
            return Ok(line.len());
        }
        let was_below = pending.lines.len() < EARLY_WRITE_BYTES;
        pending.lines.extend_from_slice(line);
        if was_below && pending.lines.len() >= EARLY_WRITE_BYTES {
            self.0.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;

    fn make_writer(&'a self) -> &'a BatchWriter {
        self
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what the thread writes, and how many writes it made.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut sink = self.0.lock().unwrap();
            sink.0.extend_from_slice(bytes);
            sink.1 += 1;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_in_few_writes_by_the_time_the_guard_drops() {
        let sink = Sink::default();
        let (writer, guard) = spawn(sink.clone());
        for n in 0..10_000 {
            (&writer).write_all(format!("line {n}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let (bytes, writes) = sink.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(lines.iter().enumerate().all(|(n, line)| *line == format!("line {n}")));
        assert!(writes < 100, "{writes} writes for 10,000 lines");
    }

    #[test]
    fn a_line_is_written_within_the_interval_without_more_lines_behind_it() {
        let sink = Sink::default();
        let (writer, _guard) = spawn(sink.clone());
        (&writer).write_all(b"alone\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while sink.0.lock().unwrap().0.is_empty() {
            assert!(std::time::Instant::now() < deadline, "the line was never written");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.0.lock().unwrap().0, b"alone\n");
    }

    #[test]
    fn lines_past_the_bound_are_dropped_and_counted_while_the_output_is_stuck() {
        let stuck = Arc::new(Mutex::new(()));
        let hold = stuck.lock().unwrap();
        struct Stuck(Arc<Mutex<()>>, Sink);
        impl Write for Stuck {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                let _wait = self.0.lock().unwrap();
                self.1.write(bytes)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let (writer, guard) = spawn(Stuck(stuck.clone(), sink.clone()));
        // The thread takes a first batch and blocks writing it; then the buffer fills.
        (&writer).write_all(b"first\n").unwrap();
        std::thread::sleep(INTERVAL * 5);
        let line = [b'x'; 1023].iter().copied().chain([b'\n']).collect::<Vec<u8>>();
        let sent = 2 * MAX_PENDING_BYTES / line.len();
        for _ in 0..sent {
            (&writer).write_all(&line).unwrap();
        }
        drop(hold);
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().0.clone()).unwrap();
        let kept = text.lines().filter(|l| l.starts_with('x')).count();
        assert_eq!(kept, MAX_PENDING_BYTES / line.len());
        let dropped = sent - kept;
        assert!(text.contains(&format!("\"{dropped} log lines dropped: output too slow\"")), "{}", &text[..200]);
    }
}
