//! The Python package's tests, run from cargo: a virtual environment under the build directory
//! with the pinned packages of `tests/requirements.txt`, the wheel built by maturin and
//! installed into it, then pytest over `tests/python`. Python 3 with `venv` must be on the
//! machine (`.ci/run` installs python3-venv and python3-pip); without it this test fails and
//! says so. Set `LUNLI_PYTHON` to use another interpreter.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The build directory this test binary was built in (`…/target/debug/deps/pytest-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors().nth(3).expect("the test binary lies in <target>/<profile>/deps").to_path_buf()
}

fn run(what: &str, command: &mut Command) {
    let status = command.status().unwrap_or_else(|e| panic!("{what}: cannot start {command:?}: {e}"));
    assert!(status.success(), "{what} failed ({status}): {command:?}");
}

/// A virtual environment with the pinned requirements, made once and kept while the
/// requirements file is unchanged.
fn venv(target: &Path) -> PathBuf {
    let python = std::env::var("LUNLI_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let venv = target.join("lunli-py-venv");
    let requirements = manifest_dir().join("tests/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/requirements.txt");
    let stamp = venv.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return venv;
    }
    let version = Command::new(&python).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "the Python package's tests need `{python}` (Python 3.9 or later) on PATH, or LUNLI_PYTHON set to one; \
         on Debian/Ubuntu: apt-get install python3 python3-venv python3-pip ({version:?})"
    );
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new(&python).args(["-m", "venv"]).arg(&venv).status();
    assert!(
        made.as_ref().is_ok_and(|s| s.success()),
        "`{python} -m venv` failed: the Python package's tests need the venv module \
         (on Debian/Ubuntu: apt-get install python3-venv) ({made:?})"
    );
    run(
        "installing the pinned test requirements",
        Command::new(venv.join("bin/python")).args(["-m", "pip", "install", "--quiet", "-r"]).arg(&requirements),
    );
    std::fs::write(&stamp, wanted).expect("write the venv's stamp");
    venv
}

#[test]
fn python_package_passes_its_pytest_suite() {
    let target = target_dir();
    let venv = venv(&target);
    let python = venv.join("bin/python");
    let wheels = target.join("lunli-py-wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    // The wheel as a person would build it (debug build: the same code, quicker to build).
    run(
        "building the wheel with maturin",
        Command::new(venv.join("bin/maturin"))
            .args(["build", "--quiet", "--compatibility", "linux", "--manifest-path"])
            .arg(manifest_dir().join("Cargo.toml"))
            .arg("--interpreter")
            .arg(&python)
            .arg("--out")
            .arg(&wheels)
            .env("CARGO_TARGET_DIR", &target),
    );
    let wheel = std::fs::read_dir(&wheels)
        .expect("maturin's output directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin wrote a wheel");
    run(
        "installing the wheel",
        Command::new(&python).args(["-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps"]).arg(&wheel),
    );
    // The recording tests set up a store with the command line, as a person would.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run(
        "building the lunli command line",
        Command::new(cargo)
            // The binary `cargo test --workspace` builds (dev-dependencies' features included), so
            // after that run this is a no-op; `cargo build` or `-p lunli` unify features
            // differently and would build the engine again.
            .args(["test", "--quiet", "--workspace", "--no-run", "--manifest-path"])
            .arg(manifest_dir().join("../../Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target),
    );
    let shared = manifest_dir().join("../../../shared/data");
    run(
        "pytest",
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(manifest_dir().join("tests/python"))
            .env("LUNLI_SHARED_DATA", &shared)
            .env("LUNLI_BIN", target.join("debug/lunli"))
            .env("LUNLI_EXAMPLES", manifest_dir().join("../../examples"))
            // The package under test is the installed wheel, never the source tree.
            .current_dir(&target),
    );
}
