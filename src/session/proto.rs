//! The control channel between the host side (the client) and the processes
//! of a session: length-prefixed JSON frames over a Unix stream socket, with
//! file descriptors (the PTY master) passed as SCM_RIGHTS on a frame.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use serde::{Deserialize, Serialize};

use super::Spec;

/// One message on the control channel.
#[derive(Debug, Serialize, Deserialize)]
pub enum Msg {
    /// Client → enter stage: what to run and how.
    Spec(Box<Spec>),
    /// Leader → client: the PTY master travels with this frame.
    Pty,
    /// Leader → client: the command runs; its PID inside the container.
    Started { pid: i32 },
    /// Any stage → client: the session could not start (`code` is the exit
    /// status cdbg should end with: 125, 126 or 127).
    Failed { code: i32, msg: String },
    /// Leader → client: the command ended with this docker-style status.
    Exit { code: i32 },
    /// Client → leader: deliver this signal to the command.
    Signal(i32),
}

const MAX_FRAME: usize = 64 << 20;

/// Sends `msg`, with `fds` attached.
pub fn send(sock: BorrowedFd<'_>, msg: &Msg, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    send_frame(sock, &frame(msg)?, fds)
}

/// `msg` encoded as one frame, to be sent later with [`send_frame`] (the
/// client encodes the Spec while the sealed copy is still being made).
pub fn frame(msg: &Msg) -> io::Result<Vec<u8>> {
    let body = serde_json::to_vec(msg).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Sends a frame made by [`frame`], with `fds` attached.
pub fn send_frame(sock: BorrowedFd<'_>, frame: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut anc = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() {
        anc.push(SendAncillaryMessage::ScmRights(fds));
    }
    let mut off = sendmsg(sock, &[IoSlice::new(frame)], &mut anc, SendFlags::NOSIGNAL)?;
    while off < frame.len() {
        off += rustix::net::send(sock, &frame[off..], SendFlags::NOSIGNAL)?;
    }
    Ok(())
}

/// Receives one message and the descriptors sent with it; `None` at EOF.
pub fn recv(sock: BorrowedFd<'_>) -> io::Result<Option<(Msg, Vec<OwnedFd>)>> {
    let mut hdr = [0u8; 4];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut got = loop {
        match recvmsg(
            sock,
            &mut [IoSliceMut::new(&mut hdr)],
            &mut anc,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Ok(r) => break r.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut fds = Vec::new();
    for m in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(it) = m {
            fds.extend(it);
        }
    }
    if got == 0 {
        return Ok(None);
    }
    while got < 4 {
        got += read_some(sock, &mut hdr[got..])?;
    }
    let len = u32::from_le_bytes(hdr) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other("control frame too large"));
    }
    let mut body = vec![0u8; len];
    let mut off = 0;
    while off < len {
        off += read_some(sock, &mut body[off..])?;
    }
    let msg = serde_json::from_slice(&body).map_err(io::Error::other)?;
    Ok(Some((msg, fds)))
}

fn read_some(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::io::read(sock, &mut *buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => {
                let mut pfd = [rustix::event::PollFd::new(
                    &sock,
                    rustix::event::PollFlags::IN,
                )];
                let _ = rustix::event::poll(&mut pfd, None);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A connected pair of control sockets (both close-on-exec).
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};
    Ok(socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// Convenience: send without descriptors, ignoring a peer that is gone.
pub fn tell(sock: &impl AsFd, msg: &Msg) {
    let _ = send(sock.as_fd(), msg, &[]);
}
