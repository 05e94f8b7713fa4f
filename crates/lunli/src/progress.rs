//! Progress bars on standard error for long runs: only when standard error is a terminal, and
//! only after half a second, so a short run prints nothing extra.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs `work` while a thread redraws a bar in `template` (indicatif's syntax) every 100 ms,
/// `update` setting its length, position and message from the work's progress counters.
pub fn with_bar<T>(
    template: &'static str,
    mut update: impl FnMut(&ProgressBar) + Send + 'static,
    work: impl FnOnce() -> T,
) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            let started = Instant::now();
            while !done.load(Ordering::Relaxed) {
                // Only long runs get a bar; a short one finishes before it would appear.
                if started.elapsed() > Duration::from_millis(500) {
                    update(&bar);
                    bar.tick();
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    };
    let result = work();
    done.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    result
}
