//! Copying files to and from a context: [`Context::push`] and [`Context::pull`].
//!
//! The file moves in chunks of up to 1 MiB over a channel with a credit window, so
//! memory stays bounded (window × 1 MiB) whatever its size. Both ends checksum it
//! (SHA-256 by default, CRC-32 on request: see [`Checksum`]); the receiving end
//! writes to a temporary file beside the destination
//! (`.NAME.pyfleet-XXXXXXXX.part`) and renames it over the destination only once
//! the digests agree, with the source's permission bits. A transfer that fails or
//! is interrupted leaves the destination as it was; only a process killed outright
//! mid-transfer can leave its temporary file behind. The child opens only the path
//! named in the call (python/pyfleet_core/files.py).

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::BytesMut;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::context::Context;
use crate::error::{CallError, TransferError};
use crate::router::channels::{CHUNK, DEFAULT_WINDOW};
use crate::wire::ByteBuf;

/// Data bytes per chunk: one channel frame holds the 5-byte marshal header too.
const CHUNK_DATA: usize = CHUNK - 5;

/// How both ends check that the copy is the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checksum {
    /// SHA-256 (the default): catches any change, accidental or not. Python's
    /// hashlib manages about 1 GiB/s here, which bounds a transfer's speed.
    #[default]
    Sha256,
    /// CRC-32: catches accidental corruption and truncation at about 2.5× the
    /// speed in the child; not a defence against deliberate tampering.
    Crc32,
}

impl Checksum {
    /// The name both ends use ("sha256", "crc32").
    pub fn name(self) -> &'static str {
        match self {
            Checksum::Sha256 => "sha256",
            Checksum::Crc32 => "crc32",
        }
    }

    fn hasher(self) -> Hasher {
        match self {
            Checksum::Sha256 => Hasher::Sha256(Sha256::new()),
            Checksum::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
        }
    }
}

enum Hasher {
    Sha256(Sha256),
    Crc32(crc32fast::Hasher),
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(hasher) => hasher.update(data),
            Hasher::Crc32(hasher) => hasher.update(data),
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Sha256(hasher) => hex(&hasher.finalize()),
            Hasher::Crc32(hasher) => format!("{:08x}", hasher.finalize()),
        }
    }
}

/// Told the number of bytes moved so far, after each chunk.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// How a transfer runs.
#[derive(Clone)]
pub struct TransferOptions {
    window: u32,
    progress: Option<Progress>,
    checksum: Checksum,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            window: DEFAULT_WINDOW,
            progress: None,
            checksum: Checksum::Sha256,
        }
    }
}

impl TransferOptions {
    /// Defaults: a window of 16 chunks (16 MiB in flight), SHA-256, no progress
    /// callback.
    pub fn new() -> TransferOptions {
        TransferOptions::default()
    }

    /// Chunks of up to 1 MiB in flight at most.
    pub fn window(mut self, chunks: u32) -> Self {
        self.window = chunks.max(1);
        self
    }

    /// The checksum both ends compute and compare.
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = checksum;
        self
    }

    /// Call `progress` with the bytes moved so far after each chunk. It runs on
    /// the transfer's task: keep it short.
    pub fn on_progress(mut self, progress: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    fn report(&self, bytes: u64) {
        if let Some(progress) = &self.progress {
            progress(bytes);
        }
    }
}

/// What a finished transfer moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    /// Size of the file.
    pub bytes: u64,
    /// Its checksum, in hex, as both ends computed it.
    pub digest: String,
    /// Which checksum that is.
    pub checksum: Checksum,
    /// The permission bits given to the destination (the source's).
    pub mode: u32,
}

/// What a push sends: the file's chunks, then its digest.
enum Piece {
    Data(ByteBuf),
    Digest(String),
}

impl Serialize for Piece {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Piece::Data(data) => data.serialize(serializer),
            Piece::Digest(digest) => serializer.serialize_str(digest),
        }
    }
}

#[derive(Deserialize)]
struct Received {
    size: u64,
    digest: String,
}

#[derive(Deserialize)]
struct Sent {
    mode: u32,
    size: u64,
    digest: String,
}

/// Why one side of a transfer stopped.
enum Side {
    Local(&'static str, std::io::Error),
    Remote(CallError),
}

impl Context {
    /// Copy the local file `local` to `remote` in the child (see the module docs
    /// for how: chunked, flow-controlled, verified, atomic, mode preserved).
    pub async fn push(
        &self,
        local: impl AsRef<Path>,
        remote: &str,
    ) -> Result<Transferred, TransferError> {
        self.push_with(local, remote, &TransferOptions::default())
            .await
    }

    /// [`push`](Self::push) with options (window, progress).
    pub async fn push_with(
        &self,
        local: impl AsRef<Path>,
        remote: &str,
        options: &TransferOptions,
    ) -> Result<Transferred, TransferError> {
        let local = local.as_ref();
        let local_error = |action, source| TransferError::Local {
            action,
            path: local.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| local_error("read", e))?;
        let metadata = file.metadata().await.map_err(|e| local_error("read", e))?;
        if !metadata.is_file() {
            return Err(local_error(
                "read",
                std::io::Error::other("not a regular file"),
            ));
        }
        let mode = metadata.permissions().mode() & 0o7777;
        let (mut sender, child_end) = self.channel_to_child_with_window::<Piece>(options.window)?;
        let checksum = options.checksum;
        let call = self.call::<Received>(
            "pyfleet_core.files",
            "receive",
            (child_end, remote, mode, checksum.name()),
            (),
        );
        let feed = async move {
            let mut hasher = checksum.hasher();
            let mut total = 0u64;
            loop {
                let mut buffer = BytesMut::with_capacity(CHUNK_DATA);
                while buffer.len() < CHUNK_DATA {
                    let read = file
                        .read_buf(&mut buffer)
                        .await
                        .map_err(|e| Side::Local("read", e))?;
                    if read == 0 {
                        break;
                    }
                }
                if buffer.is_empty() {
                    break;
                }
                hasher.update(&buffer);
                total += buffer.len() as u64;
                sender
                    .send(&Piece::Data(ByteBuf(buffer.freeze())))
                    .await
                    .map_err(Side::Remote)?;
                options.report(total);
            }
            let digest = hasher.finish();
            sender
                .send(&Piece::Digest(digest.clone()))
                .await
                .map_err(Side::Remote)?;
            sender.close().await.map_err(Side::Remote)?;
            Ok((total, digest))
        };
        // The call runs while the chunks go: polled first, it is sent first.
        let (reply, fed) = tokio::join!(call, feed);
        let (total, digest) = match (reply, fed) {
            // A local failure is the cause; the child failed because of it.
            (_, Err(Side::Local(action, source))) => return Err(local_error(action, source)),
            (Err(error), _) | (Ok(_), Err(Side::Remote(error))) => return Err(error.into()),
            (Ok(reply), Ok(fed)) => {
                if (reply.size, reply.digest.as_str()) != (fed.0, fed.1.as_str()) {
                    return Err(TransferError::Mismatch {
                        path: remote.to_string(),
                        detail: format!(
                            "the child wrote {} bytes with {} {}, {} bytes with {} were sent",
                            reply.size,
                            checksum.name(),
                            reply.digest,
                            fed.0,
                            fed.1
                        ),
                    });
                }
                fed
            }
        };
        Ok(Transferred {
            bytes: total,
            digest,
            checksum,
            mode,
        })
    }

    /// Copy `remote` in the child to the local file `local` (see the module docs
    /// for how). Fails, leaving `local` as it was, if the remote file changes,
    /// moves or disappears during the transfer.
    pub async fn pull(
        &self,
        remote: &str,
        local: impl AsRef<Path>,
    ) -> Result<Transferred, TransferError> {
        self.pull_with(remote, local, &TransferOptions::default())
            .await
    }

    /// [`pull`](Self::pull) with options (window, progress).
    pub async fn pull_with(
        &self,
        remote: &str,
        local: impl AsRef<Path>,
        options: &TransferOptions,
    ) -> Result<Transferred, TransferError> {
        let local = local.as_ref();
        let local_error = |action, source| TransferError::Local {
            action,
            path: local.to_path_buf(),
            source,
        };
        let name = match local.file_name() {
            Some(name) if !local.is_dir() => name.to_string_lossy().into_owned(),
            _ => {
                return Err(local_error(
                    "write",
                    std::io::Error::other("is a directory; pull needs the file name to write"),
                ));
            }
        };
        let directory = match local.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temporary = Temporary::create(&directory, &name)
            .await
            .map_err(|e| local_error("write", e))?;
        let (child_end, mut receiver) =
            self.channel_from_child_with_window::<ByteBuf>(options.window)?;
        let checksum = options.checksum;
        let call = self.call::<Sent>(
            "pyfleet_core.files",
            "send",
            (child_end, remote, checksum.name()),
            (),
        );
        let file = temporary.file.take().expect("a fresh temporary file");
        let consume = async move {
            let mut file = file;
            let mut hasher = checksum.hasher();
            let mut total = 0u64;
            while let Some(chunk) = receiver.recv().await.map_err(Side::Remote)? {
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Side::Local("write", e))?;
                hasher.update(&chunk.0);
                total += chunk.len() as u64;
                options.report(total);
            }
            file.flush().await.map_err(|e| Side::Local("write", e))?;
            // Dropping the receiver above (on a local error) tells the child to
            // stop sending; here it has ended cleanly.
            Ok((total, hasher.finish()))
        };
        let (reply, consumed) = tokio::join!(call, consume);
        let (sent, (total, digest)) = match (reply, consumed) {
            (_, Err(Side::Local(action, source))) => return Err(local_error(action, source)),
            (Err(error), _) | (Ok(_), Err(Side::Remote(error))) => return Err(error.into()),
            (Ok(sent), Ok(consumed)) => (sent, consumed),
        };
        if (sent.size, sent.digest.as_str()) != (total, digest.as_str()) {
            return Err(TransferError::Mismatch {
                path: local.display().to_string(),
                detail: format!(
                    "the child sent {} bytes with {} {}, {} bytes with {} arrived",
                    sent.size,
                    checksum.name(),
                    sent.digest,
                    total,
                    digest
                ),
            });
        }
        let mode = sent.mode & 0o7777;
        tokio::fs::set_permissions(&temporary.path, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| local_error("write", e))?;
        tokio::fs::rename(&temporary.path, local)
            .await
            .map_err(|e| local_error("write", e))?;
        temporary.kept = true;
        Ok(Transferred {
            bytes: total,
            digest,
            checksum,
            mode,
        })
    }
}

/// A temporary file beside the destination, removed unless it was renamed.
struct Temporary {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    kept: bool,
}

impl Temporary {
    async fn create(directory: &Path, name: &str) -> std::io::Result<Temporary> {
        let mut attempts = 0;
        loop {
            let path = directory.join(format!(".{name}.pyfleet-{}.part", random_suffix()));
            let mut open = tokio::fs::OpenOptions::new();
            open.write(true).create_new(true).mode(0o600);
            match open.open(&path).await {
                Ok(file) => {
                    return Ok(Temporary {
                        path,
                        file: Some(file),
                        kept: false,
                    });
                }
                Err(error)
                    if error.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 =>
                {
                    attempts += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 4];
    // SAFETY: the buffer is valid for writes of its length. A failure leaves zeros,
    // and create_new then retries with another draw.
    let _ = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}
