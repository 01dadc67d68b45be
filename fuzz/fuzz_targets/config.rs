//! Parses operator configuration text; must return a config or an error
//! that displays, never panic.

#![no_main]

use std::path::Path;

use herald::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Config::parse(&text, Path::new("fuzz.toml")) {
        Ok((config, warnings)) => {
            let _ = format!("{config:?}");
            for w in warnings {
                let _ = format!("{w:?}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let _ = s.to_string();
                source = s.source();
            }
        }
    }
});
