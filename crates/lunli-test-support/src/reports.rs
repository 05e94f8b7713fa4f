//! Comparing two audit reports run in different places on the same rows, and finding the
//! reference data they run on.

use std::path::PathBuf;

use serde_json::Value;

/// A file of `../shared/data` (beside the repository), which must be there.
pub fn shared_data(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative);
    assert!(path.exists(), "{} is missing: shared/ lives beside the repository", path.display());
    path
}

/// Asserts two reports (as JSON) are the same: the same fields, arrays of the same length,
/// text equal, and numbers equal or within `tolerance(path)` of each other relative to the
/// larger (a sum added up in a different order differs in its last bits). `path` names the
/// place in the report, as `.columns[2].mean`.
pub fn assert_same(a: &Value, b: &Value, path: &str, tolerance: &mut dyn FnMut(&str) -> f64) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x.keys().collect();
            assert_eq!(keys, y.keys().collect::<Vec<_>>(), "fields of {path}");
            for (key, value) in x {
                assert_same(value, &y[key], &format!("{path}.{key}"), tolerance);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length of {path}");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_same(p, q, &format!("{path}[{i}]"), tolerance);
            }
        }
        (Value::Number(x), Value::Number(y)) if x != y => {
            let (p, q) = (x.as_f64().expect("number"), y.as_f64().expect("number"));
            let tolerance = tolerance(path);
            assert!((p - q).abs() <= tolerance * p.abs().max(q.abs()), "{path}: {p} against {q}");
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}
