//! The sync protocol's messages and their binary encoding.
//!
//! Each message is one frame: a tag byte, then the fields in order. Integers are unsigned
//! LEB128 varints, byte strings and CIDs are a varint length and the bytes, lists are a varint
//! count and the items, booleans one byte (0 or 1). The encoding is hand-written rather than
//! CBOR because it is a dozen lines, carries blocks without re-encoding them, and lets the
//! decoder refuse every malformation with a precise message: a count larger than the bytes
//! left, trailing bytes, an unknown tag, a CID that does not parse. Decoding never panics and
//! never allocates more than the frame's own length.

use cid::Cid;

use crate::car::put_varint;

/// The protocol version carried in `Hello`; a peer with another version is refused.
pub const VERSION: u64 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Msg {
    /// The first message each way: version, whether the server refuses pushes, the sender's
    /// heads, and a sample of their ancestors (so the peer can find a common base).
    Hello {
        version: u64,
        read_only: bool,
        heads: Vec<Cid>,
        haves: Vec<Cid>,
    },
    /// A batch of blocks (commit blocks or fact blocks, by the phase); `last` ends the list.
    Blocks { last: bool, blocks: Vec<Vec<u8>> },
    /// The leading bytes of a block too large for one message (a commit of many facts): the
    /// `Part`s in order, then the first block of the next `Blocks`, are the block.
    Part { data: Vec<u8> },
    /// Which of the facts named by the commits just received are wanted: bit `i` (LSB first)
    /// of `bitmap` stands for the `i`-th distinct fact in commit order; `count` is that list's
    /// length, so both sides can check they computed the same list.
    Want { count: u64, bitmap: Vec<u8> },
    /// The server merged a push; `new_facts` facts were new to it.
    Done { new_facts: u64 },
    /// The client does not push.
    Bye,
    /// The sender gives up, and says why.
    Error { message: String },
}

const HELLO: u8 = 1;
const BLOCKS: u8 = 2;
const WANT: u8 = 3;
const DONE: u8 = 4;
const BYE: u8 = 5;
const ERROR: u8 = 6;
const PART: u8 = 7;

impl Msg {
    /// The message's name, for "expected X, got Y" errors.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "Hello",
            Msg::Blocks { .. } => "Blocks",
            Msg::Part { .. } => "Part",
            Msg::Want { .. } => "Want",
            Msg::Done { .. } => "Done",
            Msg::Bye => "Bye",
            Msg::Error { .. } => "Error",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let bytes = |out: &mut Vec<u8>, b: &[u8]| {
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        };
        let cids = |out: &mut Vec<u8>, cs: &[Cid]| {
            put_varint(out, cs.len() as u64);
            for c in cs {
                bytes(out, &c.to_bytes());
            }
        };
        match self {
            Msg::Hello {
                version,
                read_only,
                heads,
                haves,
            } => {
                out.push(HELLO);
                put_varint(&mut out, *version);
                out.push(u8::from(*read_only));
                cids(&mut out, heads);
                cids(&mut out, haves);
            }
            Msg::Blocks { last, blocks } => {
                out.push(BLOCKS);
                out.push(u8::from(*last));
                put_varint(&mut out, blocks.len() as u64);
                for b in blocks {
                    bytes(&mut out, b);
                }
            }
            Msg::Part { data } => {
                out.push(PART);
                bytes(&mut out, data);
            }
            Msg::Want { count, bitmap } => {
                out.push(WANT);
                put_varint(&mut out, *count);
                bytes(&mut out, bitmap);
            }
            Msg::Done { new_facts } => {
                out.push(DONE);
                put_varint(&mut out, *new_facts);
            }
            Msg::Bye => out.push(BYE),
            Msg::Error { message } => {
                out.push(ERROR);
                bytes(&mut out, message.as_bytes());
            }
        }
        out
    }

    pub fn decode(frame: &[u8]) -> Result<Msg, String> {
        let mut r = Cursor { buf: frame, pos: 0 };
        let msg = match r.u8("message tag")? {
            HELLO => Msg::Hello {
                version: r.varint("version")?,
                read_only: r.bool("read-only flag")?,
                heads: r.cids("heads")?,
                haves: r.cids("haves")?,
            },
            BLOCKS => {
                let last = r.bool("last flag")?;
                let n = r.count("block count")?;
                let mut blocks = Vec::with_capacity(n);
                for _ in 0..n {
                    blocks.push(r.bytes("block")?.to_vec());
                }
                Msg::Blocks { last, blocks }
            }
            PART => Msg::Part {
                data: r.bytes("block part")?.to_vec(),
            },
            WANT => Msg::Want {
                count: r.varint("fact count")?,
                bitmap: r.bytes("bitmap")?.to_vec(),
            },
            DONE => Msg::Done {
                new_facts: r.varint("new fact count")?,
            },
            BYE => Msg::Bye,
            ERROR => {
                let text = r.bytes("error text")?;
                Msg::Error {
                    message: String::from_utf8_lossy(text).into_owned(),
                }
            }
            tag => return Err(format!("unknown message tag {tag}")),
        };
        if r.pos != frame.len() {
            return Err(format!(
                "{} message has {} trailing bytes",
                msg.name(),
                frame.len() - r.pos
            ));
        }
        Ok(msg)
    }
}

/// A bounds-checked reader over one frame.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| format!("message ends before its {what}"))?;
        self.pos += 1;
        Ok(b)
    }

    fn bool(&mut self, what: &str) -> Result<bool, String> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("{what} is {b}, not 0 or 1")),
        }
    }

    fn varint(&mut self, what: &str) -> Result<u64, String> {
        let mut value = 0u64;
        for i in 0..9 {
            let b = self.u8(what)?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("{what} is a varint longer than 9 bytes"))
    }

    /// A length or count, which cannot exceed the bytes left (each item takes at least one).
    fn count(&mut self, what: &str) -> Result<usize, String> {
        let n = self.varint(what)?;
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(format!(
                "{what} {n} is more than the {left} bytes left in the message"
            ));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.count(what)?;
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn cids(&mut self, what: &str) -> Result<Vec<Cid>, String> {
        let n = self.count(what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let b = self.bytes(what)?;
            let cid =
                Cid::try_from(b).map_err(|e| format!("a CID in {what} does not parse: {e}"))?;
            if cid.to_bytes() != b {
                return Err(format!("a CID in {what} has trailing bytes"));
            }
            out.push(cid);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{DAG_CBOR, cid_of};

    fn check_round_trip(msg: Msg) {
        assert_eq!(Msg::decode(&msg.encode()), Ok(msg));
    }

    fn check_refused(frame: &[u8], expected: &str) {
        let err = Msg::decode(frame).unwrap_err();
        assert!(err.contains(expected), "{err} lacks {expected:?}");
    }

    #[test]
    fn messages_round_trip() {
        let a = cid_of(DAG_CBOR, b"a");
        let b = cid_of(DAG_CBOR, b"b");
        check_round_trip(Msg::Hello {
            version: VERSION,
            read_only: true,
            heads: vec![a],
            haves: vec![a, b],
        });
        check_round_trip(Msg::Blocks {
            last: false,
            blocks: vec![vec![], vec![1, 2, 3]],
        });
        check_round_trip(Msg::Want {
            count: 9,
            bitmap: vec![0xff, 1],
        });
        check_round_trip(Msg::Done { new_facts: 1 << 40 });
        check_round_trip(Msg::Bye);
        check_round_trip(Msg::Error {
            message: "read-only".into(),
        });
    }

    #[test]
    fn malformed_messages_are_refused() {
        check_refused(b"", "ends before its message tag");
        check_refused(b"\x09", "unknown message tag 9");
        check_refused(b"\x05\x00", "trailing");
        check_refused(b"\x02\x02", "last flag is 2");
        check_refused(b"\x02\x01\xff\xff\xff\xff\x0f", "more than the");
        check_refused(
            b"\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            "longer than 9",
        );
        check_refused(b"\x01\x01\x00\x01\x03abc\x00", "does not parse");
    }
}
