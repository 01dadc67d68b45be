//! Parses control-socket lines as requests and as responses; an accepted
//! request survives `to_line` / `from_line` unchanged, and so does an
//! accepted response.

#![no_main]

use herald::control::protocol::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    match Request::from_line(&line) {
        Ok(request) => {
            let again = Request::from_line(&request.to_line())
                .unwrap_or_else(|e| panic!("{request:?} does not round-trip: {e}"));
            assert_eq!(again, request);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match Response::from_line(&line) {
        Ok(response) => {
            let again = Response::from_line(&response.to_line())
                .unwrap_or_else(|e| panic!("{response:?} does not round-trip: {e}"));
            assert_eq!(again, response);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
