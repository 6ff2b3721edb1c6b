//! Awaiting blocking work without an async runtime: the work runs on its own
//! thread and wakes whichever executor polls the future.
//!
//! Discovery blocks (it waits for a shell and reads pipes, bounded in time). The
//! pack launcher calls it directly; async callers await the same code through
//! [`offload`], so this crate needs no runtime and works under any executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// The state shared by the worker thread and the future.
struct Shared<T> {
    /// `Some` once the work returned.
    result: Option<T>,
    /// The thread ended (with a result, or by panicking).
    finished: bool,
    /// Who to wake when it ends.
    waker: Option<Waker>,
}

/// A future for work running on its own thread; it resolves to the work's result,
/// or to an error message if the thread could not start or panicked.
pub(crate) struct Offloaded<T> {
    shared: Arc<Mutex<Shared<T>>>,
    spawn_error: Option<String>,
}

/// Marks the work finished when the worker thread ends, even by a panic, so the
/// future never waits for a result that cannot come.
struct FinishGuard<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Drop for FinishGuard<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.finished = true;
        if let Some(waker) = shared.waker.take() {
            waker.wake();
        }
    }
}

/// Runs `work` on a new thread; the returned future resolves when it is done.
pub(crate) fn offload<T, F>(work: F) -> Offloaded<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        finished: false,
        waker: None,
    }));
    let guard = FinishGuard {
        shared: Arc::clone(&shared),
    };
    let spawned = std::thread::Builder::new()
        .name("pyfleet-startup".into())
        .spawn(move || {
            let result = work();
            guard
                .shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .result = Some(result);
            drop(guard);
        });
    Offloaded {
        shared,
        spawn_error: spawned
            .err()
            .map(|error| format!("cannot start a helper thread: {error}")),
    }
}

impl<T> Future for Offloaded<T> {
    type Output = Result<T, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, String>> {
        let this = self.get_mut();
        if let Some(error) = this.spawn_error.take() {
            return Poll::Ready(Err(error));
        }
        let mut shared = this.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(result) = shared.result.take() {
            return Poll::Ready(Ok(result));
        }
        if shared.finished {
            return Poll::Ready(Err("a helper thread panicked".to_string()));
        }
        shared.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    /// Wakes by unparking the polling thread: the smallest executor.
    struct Unpark(std::thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::park_timeout(std::time::Duration::from_secs(1));
        }
    }

    #[test]
    fn resolves_to_the_result() {
        let value = block_on(offload(|| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            42
        }));
        assert_eq!(value, Ok(42));
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_a_hang() {
        let outcome: Result<(), String> = block_on(offload(|| panic!("boom")));
        assert_eq!(outcome, Err("a helper thread panicked".to_string()));
    }
}
