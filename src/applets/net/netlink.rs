//! A synchronous netlink request/dump helper shared by `ss` (sock_diag) and
//! `ip` (rtnetlink). netlink-sys gives the socket, netlink-packet-* the
//! message codecs; this only loops over the multipart reply.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::{Socket, SocketAddr};

/// Sends one dump request on a fresh socket of `protocol` and returns every
/// inner message of the reply, in order, until NLMSG_DONE.
pub fn dump<T>(protocol: isize, request: T) -> io::Result<Vec<T>>
where
    T: NetlinkSerializable + NetlinkDeserializable + Debug,
{
    exchange(protocol, request, true)
}

/// Sends one plain (non-dump) request and returns its single answer.
pub fn get<T>(protocol: isize, request: T) -> io::Result<T>
where
    T: NetlinkSerializable + NetlinkDeserializable + Debug,
{
    exchange(protocol, request, false)?
        .pop()
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no netlink answer"))
}

fn exchange<T>(protocol: isize, request: T, is_dump: bool) -> io::Result<Vec<T>>
where
    T: NetlinkSerializable + NetlinkDeserializable + Debug,
{
    let mut socket = Socket::new(protocol)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;

    let mut header = NetlinkHeader::default();
    header.flags = if is_dump {
        NLM_F_REQUEST | NLM_F_DUMP
    } else {
        NLM_F_REQUEST
    };
    header.sequence_number = 1;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(request));
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf);
    socket.send(&buf, 0)?;

    let mut out = Vec::new();
    loop {
        let (data, _) = socket.recv_from_full()?;
        let mut offset = 0;
        while offset < data.len() {
            let msg = NetlinkMessage::<T>::deserialize(&data[offset..])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(out),
                NetlinkPayload::Error(e) => {
                    if e.code.is_none() {
                        return Ok(out);
                    }
                    return Err(e.to_io());
                }
                NetlinkPayload::InnerMessage(m) => {
                    out.push(m);
                    if !is_dump {
                        return Ok(out);
                    }
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += (len + 3) & !3;
        }
    }
}
