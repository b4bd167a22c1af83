//! The journal and snapshot reader on any bytes: frames are read one after
//! the other as recovery reads them, every whole frame's payload goes
//! through one `Decoder` (which a snapshot header may switch), and nothing
//! panics; a frame never claims more bytes than the file has, and a
//! payload framed by `codec::frame` reads back as exactly that frame.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use sessiond::storage::durable::codec::{self, Decoder, Next};

fuzz_target!(|data: &[u8]| {
    let mut reader = Cursor::new(data);
    let mut remaining = data.len() as u64;
    let mut payload = Vec::new();
    let mut decoder = Decoder::default();
    loop {
        let (next, used) = codec::read_frame(&mut reader, remaining, &mut payload)
            .expect("reading from memory cannot fail");
        assert!(used <= remaining, "a frame of {used} bytes in {remaining}");
        match next {
            Next::Frame => {
                assert!(used >= codec::FRAME_HEADER as u64 && used > 0);
                remaining -= used;
                let _ = decoder.decode(&payload);
            }
            Next::End => {
                assert_eq!(remaining, 0);
                break;
            }
            Next::Torn | Next::Corrupt(_) => break,
        }
    }

    // Framing round trip: what `frame` writes, `read_frame` reads whole.
    let mut framed = Vec::new();
    codec::frame(&mut framed, |out| out.extend_from_slice(data));
    let mut back = Vec::new();
    let (next, used) = codec::read_frame(&mut Cursor::new(&framed), framed.len() as u64, &mut back)
        .expect("reading from memory cannot fail");
    if data.is_empty() {
        return; // an empty payload frames as the zeros of a torn tail
    }
    assert_eq!(next, Next::Frame);
    assert_eq!(used, framed.len() as u64);
    assert_eq!(back, data);
});
