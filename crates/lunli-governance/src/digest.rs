//! SHA-256 of files, streamed: evidence files, the data an audit read and the files a
//! `lunli.yaml` names are pinned to these digests. Every client (the command line, the Python
//! package) hashes through here, so a digest means the same thing wherever it was taken.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The SHA-256 (lower-case hex) and size in bytes of the file at `path`, read in 64 KiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_to_its_sha256_and_size() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, b"abc")?;
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_file(&path)?,
            ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string(), 3)
        );
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 1_000_000])?;
        // FIPS 180-2, appendix B.3: one million `a`s, across many read blocks.
        assert_eq!(
            sha256_file(&big)?,
            ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0".to_string(), 1_000_000)
        );
        assert!(sha256_file(&dir.path().join("missing")).is_err());
        Ok(())
    }
}
