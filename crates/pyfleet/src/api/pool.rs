//! A pool of forked workers: jobs go to whichever worker is free; a worker that
//! dies is replaced by a fresh fork, and its job failed or retried.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::context::Context;
use crate::error::{CallError, ForkError};
use crate::router::EndReason;

/// Sent instead of a worker's index once no worker is left.
const NO_WORKERS: usize = usize::MAX;

/// How a [`Pool`] is made and what it does when a worker dies.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    workers: usize,
    retries: u32,
}

impl PoolOptions {
    /// `workers` forked workers; a job whose worker dies fails (no retries).
    pub fn new(workers: usize) -> PoolOptions {
        PoolOptions {
            workers: workers.max(1),
            retries: 0,
        }
    }

    /// Run a job again, on a fresh worker, up to `retries` times when its worker
    /// dies under it. Only for jobs that are safe to run twice.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }
}

/// N workers forked from one template context (see [`Context::fork`]): what the
/// template imported and defined, every worker has. [`call`](Self::call) runs a
/// job on a free worker (waiting for one if all are busy), so up to N jobs run
/// at once. A worker that dies (killed, crashed, exited) is replaced by a new
/// fork of the template; its job fails with how the worker ended, or runs again
/// on the replacement if [`PoolOptions::retries`] allows.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    template: Context,
    workers: Mutex<Vec<Context>>,
    idle_sender: mpsc::UnboundedSender<usize>,
    idle: tokio::sync::Mutex<mpsc::UnboundedReceiver<usize>>,
    live: AtomicUsize,
    retries: u32,
    replaced: AtomicU64,
}

impl Pool {
    /// Fork `workers` workers from `template`.
    pub async fn new(template: &Context, workers: usize) -> Result<Pool, ForkError> {
        Pool::with_options(template, PoolOptions::new(workers)).await
    }

    /// A pool as `options` say.
    pub async fn with_options(template: &Context, options: PoolOptions) -> Result<Pool, ForkError> {
        let mut workers = Vec::with_capacity(options.workers);
        for _ in 0..options.workers {
            match template.fork().await {
                Ok(worker) => workers.push(worker),
                Err(error) => {
                    for worker in &workers {
                        worker.shutdown().await;
                    }
                    return Err(error);
                }
            }
        }
        let (idle_sender, idle) = mpsc::unbounded_channel();
        for index in 0..workers.len() {
            let _ = idle_sender.send(index);
        }
        Ok(Pool {
            inner: Arc::new(Inner {
                template: template.clone(),
                live: AtomicUsize::new(workers.len()),
                workers: Mutex::new(workers),
                idle_sender,
                idle: tokio::sync::Mutex::new(idle),
                retries: options.retries,
                replaced: AtomicU64::new(0),
            }),
        })
    }

    /// Run `module.function(*args, **kwargs)` on a free worker.
    pub async fn call<R: DeserializeOwned>(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<R, CallError> {
        let mut retries = self.inner.retries;
        loop {
            let (index, worker) = self.take().await?;
            let outcome = worker.call::<R>(module, function, &args, &kwargs).await;
            let end = match &outcome {
                Err(CallError::ContextEnded(end))
                    if !matches!(end.reason, EndReason::Shutdown | EndReason::BrokerShutdown) =>
                {
                    end.clone()
                }
                _ => {
                    let _ = self.inner.idle_sender.send(index);
                    return outcome;
                }
            };
            self.replace(index, &worker).await;
            if retries == 0 {
                return Err(CallError::ContextEnded(end));
            }
            retries -= 1;
        }
    }

    /// The workers as they are now.
    pub fn workers(&self) -> Vec<Context> {
        self.lock().clone()
    }

    /// How many workers died and were replaced so far.
    pub fn replaced(&self) -> u64 {
        self.inner.replaced.load(Ordering::Relaxed)
    }

    /// Stop every worker (the template keeps running).
    pub async fn shutdown(&self) {
        let workers = self.workers();
        for worker in workers {
            worker.shutdown().await;
        }
    }

    async fn take(&self) -> Result<(usize, Context), CallError> {
        let mut idle = self.inner.idle.lock().await;
        if self.inner.live.load(Ordering::Acquire) == 0 {
            return Err(self.no_workers());
        }
        match idle.recv().await {
            Some(NO_WORKERS) | None => {
                // Pass the news on to the next waiter.
                let _ = self.inner.idle_sender.send(NO_WORKERS);
                Err(self.no_workers())
            }
            Some(index) => Ok((index, self.lock()[index].clone())),
        }
    }

    /// Fork a replacement for the dead worker at `index`; without one, the slot
    /// leaves the rotation.
    async fn replace(&self, index: usize, dead: &Context) {
        match self.inner.template.fork().await {
            Ok(worker) => {
                self.lock()[index] = worker;
                self.inner.replaced.fetch_add(1, Ordering::Relaxed);
                let _ = self.inner.idle_sender.send(index);
            }
            Err(error) => {
                tracing::warn!(worker = %dead.name(), %error, "cannot replace a dead pool worker");
                if self.inner.live.fetch_sub(1, Ordering::AcqRel) == 1 {
                    // The last one: wake whoever waits for a worker.
                    let _ = self.inner.idle_sender.send(NO_WORKERS);
                }
            }
        }
    }

    fn no_workers(&self) -> CallError {
        match self.inner.template.end() {
            Some(end) => CallError::ContextEnded(end),
            None => CallError::Channel {
                context: self.inner.template.name().to_string(),
                detail: "every pool worker died and none could be forked again".into(),
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Context>> {
        self.inner.workers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for worker in workers {
            worker.connection().shutdown_now(EndReason::Shutdown);
        }
    }
}
