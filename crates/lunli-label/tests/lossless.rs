//! `write` on files Debian's ffmpeg makes (GIF, FLAC, MP4, MOV, WAV): the labelled copy decodes
//! to exactly the same frames and samples (`ffmpeg -f framemd5` of both compared), `check`
//! reports it conforming, and `write --replace` swaps a label for another, returning the old
//! one. These tests need `ffmpeg` on the PATH (.ci/run installs it) and fail without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use lunli_label::{Aigc, Existing, ImplicitState, Status, check_file, write};

fn aigc() -> Aigc {
    Aigc::generated("acme", "dec-42", "chat")
}

/// Runs ffmpeg quietly with `args`; its standard output.
fn ffmpeg(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ffmpeg is needed for these tests (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// An MD5 of every decoded frame and audio packet of every stream.
fn framemd5(path: &Path) -> String {
    let path = path.to_str().expect("test paths are UTF-8");
    let text = String::from_utf8(ffmpeg(&["-i", path, "-map", "0", "-f", "framemd5", "-"])).expect("framemd5 is text");
    assert!(text.lines().any(|l| !l.starts_with('#')), "frames were decoded from {path}: {text}");
    text
}

fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut all = args.to_vec();
    all.push(path.to_str().expect("test paths are UTF-8"));
    ffmpeg(&all);
    path
}

const VIDEO: [&str; 4] = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10"];
const AUDIO: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"];

/// Labels `input`, and returns the labelled copy after checking it decodes the same and is
/// conforming with the label written at `location`.
fn label_losslessly(input: &Path, location: &str) -> PathBuf {
    let before = check_file(input).expect("a format lunli reads");
    assert_eq!(before.status, Status::MissingImplicit, "{} starts unlabelled: {before:#?}", input.display());
    let output = input.with_file_name(format!("labelled-{}", input.file_name().and_then(|n| n.to_str()).unwrap_or("")));
    let written = write(input, &output, &aigc(), Existing::Refuse).unwrap_or_else(|e| panic!("{e}"));
    assert!(written.location.starts_with(location), "{written:?}");
    assert_eq!(written.replaced, None);
    let check = check_file(&output).expect("a format lunli reads");
    assert_eq!(check.status, Status::Conforming, "{check:#?}");
    assert_eq!(check.implicit.fields, aigc().fields());
    assert_eq!(framemd5(input), framemd5(&output), "{} decodes to the same frames after labelling", input.display());
    output
}

#[test]
fn gif_flac_mp4_and_mov_are_labelled_without_touching_their_frames() {
    let dir = tempfile::tempdir().expect("test fixture");
    let d = dir.path();

    let gif = make(d, "a.gif", &[&VIDEO[..], &["-frames:v", "4"]].concat());
    let out = label_losslessly(&gif, "GIF XMP application extension");
    let (original, labelled) = (std::fs::read(&gif).expect("gif"), std::fs::read(&out).expect("gif"));
    assert!(labelled.starts_with(&original[..original.len() - 1]), "every block before the trailer is unchanged");
    assert_eq!(labelled.last(), Some(&0x3B), "the GIF trailer stays last");

    // ffmpeg writes a VORBIS_COMMENT block (encoder=Lavf…): the label joins it.
    let flac = make(d, "a.flac", &[&AUDIO[..], &["-t", "0.5"]].concat());
    let out = label_losslessly(&flac, "FLAC Vorbis comment AIGC (existing block)");
    let (original, labelled) = (std::fs::read(&flac).expect("flac"), std::fs::read(&out).expect("flac"));
    let frames = audio_frames(&original);
    assert!(labelled.ends_with(&original[frames..]), "the audio frames are unchanged");
    assert!(String::from_utf8_lossy(&labelled).contains("encoder=Lavf"), "the comments ffmpeg wrote are kept");

    // Without one, a new block goes after STREAMINFO.
    let bare = d.join("bare.flac");
    std::fs::write(&bare, without_comments(&original)).expect("test fixture");
    let out = label_losslessly(&bare, "FLAC Vorbis comment AIGC");
    assert!(std::fs::read(&out).expect("flac").ends_with(&original[frames..]));

    let av = [&VIDEO[..], &AUDIO[..], &["-t", "1", "-c:v", "mpeg4", "-c:a", "aac"]].concat();
    for (name, extra) in [("a.mp4", &[][..]), ("fast.mp4", &["-movflags", "+faststart"][..]), ("a.mov", &[][..])] {
        let video = make(d, name, &[&av[..], extra].concat());
        let out = label_losslessly(&video, "MP4 uuid XMP box");
        let (original, labelled) = (std::fs::read(&video).expect("mp4"), std::fs::read(&out).expect("mp4"));
        assert!(labelled.starts_with(&original), "{name}: every box stays where it was; the label is appended");
    }

    let wav = make(d, "a.wav", &[&AUDIO[..], &["-t", "0.5"]].concat());
    label_losslessly(&wav, "WAV _PMX chunk");
}

/// The offset of a FLAC's first audio frame (after the last metadata block).
fn audio_frames(flac: &[u8]) -> usize {
    let mut off = 4;
    loop {
        let h = &flac[off..off + 4];
        off += 4 + (usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]));
        if h[0] & 0x80 != 0 {
            return off;
        }
    }
}

/// A FLAC with its VORBIS_COMMENT block taken out (and the last-block flag moved).
fn without_comments(flac: &[u8]) -> Vec<u8> {
    let mut blocks = Vec::new();
    let mut off = 4;
    loop {
        let h = &flac[off..off + 4];
        let end = off + 4 + (usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]));
        if h[0] & 0x7f != 4 {
            blocks.push(flac[off..end].to_vec());
        }
        off = end;
        if h[0] & 0x80 != 0 {
            break;
        }
    }
    let mut out = b"fLaC".to_vec();
    let n = blocks.len();
    for (i, mut b) in blocks.into_iter().enumerate() {
        b[0] = b[0] & 0x7f | if i + 1 == n { 0x80 } else { 0 };
        out.extend(b);
    }
    out.extend_from_slice(&flac[off..]);
    out
}

#[test]
fn replace_swaps_the_label_and_returns_the_old_one() {
    let dir = tempfile::tempdir().expect("test fixture");
    let d = dir.path();
    let newer = Aigc::generated("acme", "dec-43", "chat");
    let files = [
        make(d, "r.gif", &[&VIDEO[..], &["-frames:v", "2"]].concat()),
        make(d, "r.flac", &[&AUDIO[..], &["-t", "0.3"]].concat()),
        make(d, "r.mp4", &[&VIDEO[..], &["-t", "0.5", "-c:v", "mpeg4"]].concat()),
        make(d, "r.wav", &[&AUDIO[..], &["-t", "0.3"]].concat()),
        make(d, "r.mp3", &[&AUDIO[..], &["-t", "0.3", "-c:a", "libmp3lame"]].concat()),
        make(d, "r.png", &[&VIDEO[..], &["-frames:v", "1"]].concat()),
        make(d, "r.jpg", &[&VIDEO[..], &["-frames:v", "1"]].concat()),
        make(d, "r.webp", &[&VIDEO[..], &["-frames:v", "1", "-c:v", "libwebp"]].concat()),
    ];
    for file in &files {
        let labelled = file.with_extension(format!("1.{}", file.extension().and_then(|e| e.to_str()).unwrap_or("")));
        write(file, &labelled, &aigc(), Existing::Refuse).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let err = write(&labelled, &labelled, &newer, Existing::Refuse).expect_err("a second label is refused");
        assert!(err.to_string().contains("already carries an implicit label"), "{err}");

        let written = write(&labelled, &labelled, &newer, Existing::Replace).unwrap_or_else(|e| panic!("{e}"));
        let old = written.replaced.unwrap_or_else(|| panic!("{}: the old label is returned", file.display()));
        assert_eq!(old.fields, aigc().fields());
        assert!(old.conforming);
        let check = check_file(&labelled).expect("a format lunli reads");
        assert_eq!((check.status, check.implicit.state), (Status::Conforming, ImplicitState::Present), "{check:#?}");
        assert_eq!(check.implicit.fields, newer.fields(), "{}", file.display());
        assert_eq!(framemd5(file), framemd5(&labelled), "{} decodes the same after two writes", file.display());
    }
}
