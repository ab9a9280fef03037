#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oslo_rpc_fuzz::entry_points::config_reader(data);
});
