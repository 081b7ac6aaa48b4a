//! A TCP stream that knows when the kernel received what it reads.
//!
//! The simulator stands in for a carrier, but shares the machine with the server: when it reads
//! a frame late because it was not scheduled, that delay is the simulator's, not the server's
//! pacing. The kernel stamps each arriving segment (`SO_TIMESTAMPNS`); on loopback that is the
//! moment the server wrote it. No crate reads TCP receive timestamps through tokio, hence this
//! small `AsyncRead`, built on `nix`'s `recvmsg`.

use std::{
    io,
    os::fd::AsRawFd,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll, ready},
    time::{Duration, SystemTime},
};

use nix::sys::{
    socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt::ReceiveTimestampns},
    time::TimeSpec,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, Interest, ReadBuf},
    net::TcpStream,
};

pub struct StampedStream {
    inner: TcpStream,
    received: ReceivedAt,
    control: Vec<u8>,
}

/// When the last segment of the stream's latest read arrived. Bytes that waited for the reader
/// together share the later stamp (the kernel merges queued segments), so a stamp is never
/// earlier than the truth. The kernel turns stamping on for the whole system a moment after the
/// first socket asks (deferred work), so the first reads may come without a stamp.
#[derive(Clone, Default)]
pub struct ReceivedAt(Arc<AtomicU64>);

impl ReceivedAt {
    /// The kernel's stamp of the latest read, or now when it came without one.
    pub fn get(&self) -> SystemTime {
        self.kernel().unwrap_or_else(SystemTime::now)
    }

    fn kernel(&self) -> Option<SystemTime> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)),
        }
    }

    fn set(&self, stamp: Option<&TimeSpec>) {
        let nanos = stamp.map_or(0, |stamp| u64::try_from(Duration::from(*stamp).as_nanos()).unwrap_or(u64::MAX));
        self.0.store(nanos, Ordering::Relaxed);
    }
}

impl StampedStream {
    pub fn new(inner: TcpStream) -> io::Result<(Self, ReceivedAt)> {
        setsockopt(&inner, ReceiveTimestampns, &true)?;
        let received = ReceivedAt::default();
        let control = nix::cmsg_space!(TimeSpec);
        Ok((Self { inner, received: received.clone(), control }, received))
    }
}

impl AsyncRead for StampedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            // `try_io` clears the readiness when the socket turns out empty, so polling again waits.
            let (inner, received, control) = (&this.inner, &this.received, &mut this.control);
            let read = inner.try_io(Interest::READABLE, || receive(inner, unfilled, control, received));
            match read {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// One `recvmsg`, keeping the kernel's receive stamp of what it read.
fn receive(socket: &TcpStream, buf: &mut [u8], control: &mut [u8], received: &ReceivedAt) -> io::Result<usize> {
    let mut iov = [io::IoSliceMut::new(buf)];
    let message = recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(control), MsgFlags::empty())?;
    let stamp = message.cmsgs()?.find_map(|control| match control {
        ControlMessageOwned::ScmTimestampns(stamp) => Some(stamp),
        _ => None,
    });
    received.set(stamp.as_ref());
    Ok(message.bytes)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_read_carries_when_the_bytes_arrived_not_when_they_were_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        let (mut stream, received) = StampedStream::new(client.unwrap()).unwrap();
        let mut server = accepted.unwrap().0;
        let mut buf = [0; 16];
        // Until the kernel has turned stamping on (a moment after the first socket asks).
        for _ in 0..200 {
            server.write_all(b"x").await.unwrap();
            stream.read_exact(&mut buf[..1]).await.unwrap();
            if received.kernel().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let sent = SystemTime::now();
        server.write_all(b"frame").await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = stream.read(&mut buf).await.unwrap();
        let read = SystemTime::now();
        assert_eq!(&buf[..n], b"frame");
        let stamp = received.kernel().expect("the kernel stamps reads");
        assert!(stamp >= sent, "stamped before it was sent");
        assert!(read.duration_since(stamp).unwrap() >= Duration::from_millis(150), "stamped when read");
    }
}
