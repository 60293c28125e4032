//! CARv1 files: a writer and a verifying, streaming reader.
//!
//! A CARv1 file is a header followed by block sections, each introduced by an unsigned LEB128
//! varint length:
//!
//! ```text
//! varint(len) dag-cbor{roots: [CID], version: 1}
//! varint(len) CID-bytes block-bytes      (repeated until end of file)
//! ```
//!
//! The framing is small enough that this module implements it directly over blocking
//! `std::io` instead of using `iroh-car` (see the crate docs for the comparison). The reader
//! keeps three promises, in this order, for every section: the varint is well formed (at most
//! nine bytes, no end of file inside it), the section is no larger than the configured block
//! limit, and the block verifies against its CID ([`crate::block::verify_block`]). A file that
//! ends exactly at a section boundary is complete; one that ends anywhere else is truncated.
//! Errors carry the byte offset of the section that failed.

use std::fmt;
use std::io::{self, Read, Write};

use cid::Cid;
use ipld_core::ipld::Ipld;

use crate::block::verify_block;

/// The default largest block the reader accepts (4 MiB), bounding memory per section.
pub const DEFAULT_MAX_BLOCK: usize = 4 << 20;
/// The largest header the reader accepts; a header is a list of roots and stays small.
const MAX_HEADER: usize = 1 << 20;
/// A CID is at most this long in practice (version, codec, multihash code, length, digest of
/// up to 64 bytes); sections are allowed this much beyond the block limit.
const MAX_CID_LEN: usize = 128;

/// Why a CAR file was refused. The `offset` is the byte position of the section (or varint)
/// where reading failed.
#[derive(Debug)]
pub enum CarError {
    /// The underlying reader or writer failed.
    Io(io::Error),
    /// The header is missing, malformed, or not version 1.
    BadHeader(String),
    /// The file ended inside a varint, header or block section.
    Truncated { offset: u64 },
    /// A length varint was longer than nine bytes.
    BadVarint { offset: u64 },
    /// A section is larger than the configured limit.
    TooLarge {
        offset: u64,
        size: u64,
        limit: usize,
    },
    /// A block's CID is malformed or does not match its bytes.
    BadBlock { offset: u64, reason: String },
}

impl fmt::Display for CarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CarError::Io(e) => write!(f, "CAR file: {e}"),
            CarError::BadHeader(why) => write!(f, "CAR file: bad header: {why}"),
            CarError::Truncated { offset } => {
                write!(
                    f,
                    "CAR file: truncated: it ends inside the section at byte {offset}"
                )
            }
            CarError::BadVarint { offset } => {
                write!(
                    f,
                    "CAR file: bad length varint at byte {offset} (longer than 9 bytes)"
                )
            }
            CarError::TooLarge {
                offset,
                size,
                limit,
            } => write!(
                f,
                "CAR file: the section at byte {offset} is {size} bytes, more than the limit of {limit}"
            ),
            CarError::BadBlock { offset, reason } => {
                write!(
                    f,
                    "CAR file: the block at byte {offset} is refused: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for CarError {}

impl From<io::Error> for CarError {
    fn from(e: io::Error) -> Self {
        CarError::Io(e)
    }
}

/// Appends the unsigned LEB128 encoding of `n` to `out`.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The outcome of reading one varint from a stream.
enum Varint {
    /// The stream ended before the first byte: a clean end of file.
    End,
    Value(u64, usize),
}

/// Reads a multiformats varint (at most nine bytes) from `r`.
fn read_varint(r: &mut impl Read, offset: u64) -> Result<Varint, CarError> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let mut byte = [0u8; 1];
        loop {
            match r.read(&mut byte) {
                Ok(0) if i == 0 => return Ok(Varint::End),
                Ok(0) => return Err(CarError::Truncated { offset }),
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CarError::Io(e)),
            }
        }
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok(Varint::Value(value, i + 1));
        }
    }
    Err(CarError::BadVarint { offset })
}

/// Fills `buf` from `r`, reporting an early end of file as truncation of the section at `offset`.
fn read_section(r: &mut impl Read, buf: &mut [u8], offset: u64) -> Result<(), CarError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            CarError::Truncated { offset }
        } else {
            CarError::Io(e)
        }
    })
}

/// The DAG-CBOR header of a CARv1 file. Field order is the canonical DAG-CBOR key order
/// (shorter keys first), so the encoding is deterministic.
#[derive(serde::Serialize)]
struct Header<'a> {
    roots: &'a [Cid],
    version: u64,
}

/// Writes a CARv1 file with the given roots and blocks to `w` and returns the number of bytes
/// written. Blocks are written as given, without verification: the writer trusts its caller,
/// the reader trusts nobody.
pub fn write_car(
    mut w: impl Write,
    roots: &[Cid],
    blocks: impl IntoIterator<Item = (Cid, Vec<u8>)>,
) -> io::Result<u64> {
    let header = serde_ipld_dagcbor::to_vec(&Header { roots, version: 1 })
        .map_err(|e| io::Error::other(format!("encoding the CAR header: {e}")))?;
    let mut section = Vec::with_capacity(header.len() + 9);
    put_varint(&mut section, header.len() as u64);
    section.extend_from_slice(&header);
    w.write_all(&section)?;
    let mut written = section.len() as u64;
    for (cid, data) in blocks {
        let cid_bytes = cid.to_bytes();
        section.clear();
        put_varint(&mut section, (cid_bytes.len() + data.len()) as u64);
        section.extend_from_slice(&cid_bytes);
        w.write_all(&section)?;
        w.write_all(&data)?;
        written += (section.len() + data.len()) as u64;
    }
    w.flush()?;
    Ok(written)
}

/// A streaming CARv1 reader. Construction reads and checks the header; iteration yields each
/// block after verifying it, and stops for good after the first error.
pub struct CarReader<R> {
    reader: R,
    roots: Vec<Cid>,
    offset: u64,
    max_block: usize,
    failed: bool,
}

impl<R: Read> CarReader<R> {
    /// Reads the header of a CARv1 file, with the default block limit.
    pub fn new(reader: R) -> Result<Self, CarError> {
        Self::with_limit(reader, DEFAULT_MAX_BLOCK)
    }

    /// Reads the header of a CARv1 file; blocks larger than `max_block` bytes will be refused.
    pub fn with_limit(mut reader: R, max_block: usize) -> Result<Self, CarError> {
        let (len, n) = match read_varint(&mut reader, 0)? {
            Varint::End => return Err(CarError::BadHeader("the file is empty".into())),
            Varint::Value(len, n) => (len, n),
        };
        if len == 0 || len > MAX_HEADER as u64 {
            return Err(CarError::BadHeader(format!(
                "header length {len} is outside 1..={MAX_HEADER}"
            )));
        }
        let mut buf = vec![0u8; len as usize];
        read_section(&mut reader, &mut buf, 0)?;
        let roots = decode_header(&buf)?;
        Ok(CarReader {
            reader,
            roots,
            offset: n as u64 + len,
            max_block,
            failed: false,
        })
    }

    /// The roots named in the header.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// Reads the next block, or `None` at a clean end of file.
    pub fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        if self.failed {
            return Ok(None);
        }
        let result = self.read_block();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn read_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let offset = self.offset;
        let (len, n) = match read_varint(&mut self.reader, offset)? {
            Varint::End => return Ok(None),
            Varint::Value(len, n) => (len, n),
        };
        if len > (self.max_block + MAX_CID_LEN) as u64 {
            return Err(CarError::TooLarge {
                offset,
                size: len,
                limit: self.max_block,
            });
        }
        let mut buf = vec![0u8; len as usize];
        read_section(&mut self.reader, &mut buf, offset)?;
        self.offset += n as u64 + len;
        let mut rest = &buf[..];
        let cid = Cid::read_bytes(&mut rest).map_err(|e| CarError::BadBlock {
            offset,
            reason: format!("malformed CID: {e}"),
        })?;
        let cid_len = buf.len() - rest.len();
        if rest.len() > self.max_block {
            return Err(CarError::TooLarge {
                offset,
                size: rest.len() as u64,
                limit: self.max_block,
            });
        }
        verify_block(&cid, rest).map_err(|reason| CarError::BadBlock { offset, reason })?;
        buf.drain(..cid_len);
        Ok(Some((cid, buf)))
    }
}

impl<R: Read> Iterator for CarReader<R> {
    type Item = Result<(Cid, Vec<u8>), CarError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().transpose()
    }
}

/// Decodes a CARv1 header and returns its roots; anything but `{roots: [CID], version: 1}` is
/// refused.
fn decode_header(bytes: &[u8]) -> Result<Vec<Cid>, CarError> {
    let ipld: Ipld = serde_ipld_dagcbor::from_slice(bytes)
        .map_err(|e| CarError::BadHeader(format!("not DAG-CBOR: {e}")))?;
    let Ipld::Map(map) = ipld else {
        return Err(CarError::BadHeader("not a map".into()));
    };
    match map.get("version") {
        Some(Ipld::Integer(1)) => {}
        Some(other) => {
            return Err(CarError::BadHeader(format!(
                "version {other:?}; only CARv1 is read"
            )));
        }
        None => return Err(CarError::BadHeader("no version".into())),
    }
    let Some(Ipld::List(roots)) = map.get("roots") else {
        return Err(CarError::BadHeader("no list of roots".into()));
    };
    roots
        .iter()
        .map(|r| match r {
            Ipld::Link(cid) => Ok(*cid),
            other => Err(CarError::BadHeader(format!(
                "a root is not a CID: {other:?}"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{DAG_CBOR, RAW, cid_of};

    fn blocks(n: usize) -> Vec<(Cid, Vec<u8>)> {
        (0..n)
            .map(|i| {
                let data = serde_ipld_dagcbor::to_vec(&(i as u64, "fact")).unwrap();
                (cid_of(DAG_CBOR, &data), data)
            })
            .collect()
    }

    fn write(roots: &[Cid], blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = write_car(&mut out, roots, blocks.iter().cloned()).unwrap();
        assert_eq!(n as usize, out.len());
        out
    }

    type ReadBack = (Vec<Cid>, Vec<(Cid, Vec<u8>)>);

    fn read_all(bytes: &[u8]) -> Result<ReadBack, CarError> {
        let reader = CarReader::new(bytes)?;
        let roots = reader.roots().to_vec();
        let blocks = reader.collect::<Result<Vec<_>, _>>()?;
        Ok((roots, blocks))
    }

    /// Reads `bytes` and checks that it fails with an error whose text contains `expected`.
    fn check_refused(bytes: &[u8], expected: &str) {
        match read_all(bytes) {
            Ok(_) => panic!("accepted a bad CAR file; expected {expected:?}"),
            Err(e) => assert!(e.to_string().contains(expected), "{e} lacks {expected:?}"),
        }
    }

    #[test]
    fn round_trip_keeps_roots_and_blocks_in_order() {
        let bs = blocks(5);
        let raw = b"opaque".to_vec();
        let mut all = bs.clone();
        all.push((cid_of(RAW, &raw), raw));
        let bytes = write(&[bs[0].0, bs[4].0], &all);
        let (roots, read) = read_all(&bytes).unwrap();
        assert_eq!(roots, vec![bs[0].0, bs[4].0]);
        assert_eq!(read, all);
    }

    #[test]
    fn empty_car_has_roots_and_no_blocks() {
        let (roots, read) = read_all(&write(&[], &[])).unwrap();
        assert!(roots.is_empty() && read.is_empty());
    }

    #[test]
    fn header_matches_the_reference_encoding() {
        // {"roots": [], "version": 1} in canonical DAG-CBOR, prefixed by its length.
        let bytes = write(&[], &[]);
        assert_eq!(bytes[0] as usize, bytes.len() - 1);
        assert_eq!(&bytes[1..], b"\xa2\x65roots\x80\x67version\x01");
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = write(&[], &blocks(3));
        let header_len = bytes[0] as usize + 1;
        let mut boundaries = vec![header_len];
        let mut at = header_len;
        while at < bytes.len() {
            at += bytes[at] as usize + 1;
            boundaries.push(at);
        }
        for cut in 0..bytes.len() {
            if boundaries.contains(&cut) {
                assert!(read_all(&bytes[..cut]).is_ok(), "cut at a boundary {cut}");
            } else {
                assert!(read_all(&bytes[..cut]).is_err(), "accepted a cut at {cut}");
            }
        }
        check_refused(&bytes[..bytes.len() - 1], "truncated");
    }

    #[test]
    fn corrupted_block_is_refused() {
        let mut bytes = write(&[], &blocks(2));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        check_refused(&bytes, "hash to");
    }

    #[test]
    fn bad_headers_are_refused() {
        check_refused(b"", "empty");
        check_refused(b"\x00", "header length 0");
        check_refused(b"\x05\xa1\x61a", "truncated");
        check_refused(b"\x03\xa1\x61a", "not DAG-CBOR");
        check_refused(b"\x01\xa0", "no version");
        check_refused(b"\x02\xff\xff", "not DAG-CBOR");
        check_refused(b"\x0b\xa2\x65roots\x80\x67version\x02", "bad header");
        let mut v2 = b"\x11\xa2\x65roots\x80\x67version\x02".to_vec();
        v2[0] = (v2.len() - 1) as u8;
        check_refused(&v2, "only CARv1");
    }

    #[test]
    fn bad_varint_and_oversized_block_are_refused() {
        let mut bytes = write(&[], &[]);
        bytes.extend_from_slice(&[0xff; 10]);
        check_refused(&bytes, "bad length varint");

        let bs = blocks(1);
        let bytes = write(&[], &bs);
        let reader = CarReader::with_limit(&bytes[..], 2).unwrap();
        let err = reader.collect::<Result<Vec<_>, _>>().unwrap_err();
        assert!(
            err.to_string().contains("more than the limit of 2"),
            "{err}"
        );

        let mut huge = write(&[], &[]);
        put_varint(&mut huge, u64::MAX >> 1);
        check_refused(&huge, "more than the limit");
    }

    #[test]
    fn malformed_cid_is_refused() {
        let mut bytes = write(&[], &[]);
        bytes.extend_from_slice(&[3, 0x05, 0x05, 0x05]);
        check_refused(&bytes, "malformed CID");
    }
}
