/// See `api/Cargo.toml`: mimalloc keeps allocation cheap and the heap compact under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same place in its v2 and v3 option lists; the
/// binding names no constant for it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed pages go back to the OS after 1 ms instead of mimalloc v3's 1,000 (unless
/// `MIMALLOC_PURGE_DELAY` says otherwise). Bursts of concurrent requests (a review queue
/// page holds about 2 MB while its conflicts are found) and the start-up jobs left their
/// memory resident: at 200,000 registrations, 32 clients, peak RSS was 125-136 MB with the
/// default, 103-107 MB with 10 ms, 81-99 MB with 1 ms; throughput did not move beyond
/// the runs' spread (0 ms cost about a tenth of by-id throughput in one run). Set before
/// the runtime starts any thread, as mimalloc asks.
fn purge_freed_memory_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: no other thread runs yet; the call stores one number in mimalloc's options.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1) };
    }
}

fn main() -> std::process::ExitCode {
    purge_freed_memory_sooner();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(partnergraph::cli::run()),
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // 1,000 ms is mimalloc v3's purge delay by default; no option beside it has it.
        let read = |option| unsafe { libmimalloc_sys::mi_option_get(option) };
        assert_eq!(read(super::PURGE_DELAY), 1_000);
        assert_ne!(read(super::PURGE_DELAY - 1), 1_000);
        assert_ne!(read(super::PURGE_DELAY + 1), 1_000);
        super::purge_freed_memory_sooner();
        assert_eq!(read(super::PURGE_DELAY), 1);
    }
}
