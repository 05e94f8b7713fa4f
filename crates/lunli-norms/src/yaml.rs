//! Bounds on the YAML files people hand to lunli (`lunli.yaml`, `system.yaml`, intake answers,
//! playbooks, audit policies and rules), checked on the text before a YAML parser sees it.
//!
//! The YAML scanner the workspace parses with (libyaml's, through `serde_yaml_ng`) looks again at
//! every open flow collection (`[`, `{`) for each token it reads, so its time grows with the
//! square of the nesting: a 200 KB `lunli.yaml` of nested `[` takes minutes, long before the
//! deserializer's own recursion limit is reached. Real files nest a handful of levels, so
//! anything nested deeper than [`YAML_MAX_DEPTH`] or larger than [`YAML_MAX_BYTES`] is refused,
//! with its line, in time proportional to its size.
//!
//! The depth counted here is a close estimate, not a YAML parser: block collections by their
//! indentation (and `- ` or `key:` entries opened on the same line), flow collections by their
//! brackets outside quotes, comments and block scalars. It may count one level more or less than
//! a parser would, which the limit's margin absorbs.

/// The largest YAML file lunli reads: 1 MiB, some hundred times the largest real `lunli.yaml`.
pub const YAML_MAX_BYTES: usize = 1024 * 1024;

/// The deepest nesting of collections lunli reads: 64, far beyond any real file (a `lunli.yaml`
/// nests about 6) and low enough that the scanner's per-token work stays small.
pub const YAML_MAX_DEPTH: usize = 64;

/// A YAML text over one of lunli's limits. The message says which limit and what to do; the
/// file name is the caller's to add.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlLimit {
    #[error(
        "{bytes} bytes is more than the {limit}-byte limit for a YAML file; split it or remove what lunli does not read"
    )]
    TooLarge { bytes: usize, limit: usize },
    #[error("collections nested more than {limit} levels deep (the limit); flatten the structure")]
    TooDeep { line: usize, limit: usize },
}

impl YamlLimit {
    /// The 1-based line where the depth limit was passed.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::TooDeep { line, .. } => Some(*line),
            Self::TooLarge { .. } => None,
        }
    }
}

/// Checks a YAML (or JSON) text against [`YAML_MAX_BYTES`] and [`YAML_MAX_DEPTH`].
pub fn check_yaml_bounds(text: &str) -> Result<(), YamlLimit> {
    check_with(text, YAML_MAX_BYTES, YAML_MAX_DEPTH)
}

fn check_with(text: &str, max_bytes: usize, max_depth: usize) -> Result<(), YamlLimit> {
    if text.len() > max_bytes {
        return Err(YamlLimit::TooLarge { bytes: text.len(), limit: max_bytes });
    }
    let mut scan = Scan { max_depth, ..Scan::default() };
    for (i, line) in text.lines().enumerate() {
        scan.line(line.as_bytes(), i + 1)?;
    }
    Ok(())
}

/// The scanner's state between lines.
#[derive(Default)]
struct Scan {
    max_depth: usize,
    /// Indentation of the open block collections, innermost last.
    indents: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    /// The block depth a flow collection or a quoted scalar was opened at.
    base: usize,
    /// Inside a quoted scalar that goes on to the next line: its quote.
    quote: Option<u8>,
    /// Inside a block scalar (`|`, `>`): lines indented more than this belong to it.
    literal: Option<usize>,
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).copied().is_some_and(is_space) {
        pos += 1;
    }
    pos
}

/// An indicator (`-`, `?`, `:`) followed by a space or the end of the line.
fn indicator_at(bytes: &[u8], pos: usize, indicator: u8) -> bool {
    bytes.get(pos) == Some(&indicator) && bytes.get(pos + 1).is_none_or(|&b| is_space(b))
}

/// Where a quoted scalar opened before `pos` ends (just after its closing quote), if on this line.
fn close_quote(bytes: &[u8], mut pos: usize, quote: u8) -> Option<usize> {
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'\\' if quote == b'"' => pos += 2,
            // `''` inside single quotes is an escaped quote, so it closes and reopens.
            _ if b == quote => return Some(pos + 1),
            _ => pos += 1,
        }
    }
    None
}

impl Scan {
    fn deeper(&self, depth: usize, line: usize) -> Result<(), YamlLimit> {
        if depth > self.max_depth { Err(YamlLimit::TooDeep { line, limit: self.max_depth }) } else { Ok(()) }
    }

    fn line(&mut self, bytes: &[u8], number: usize) -> Result<(), YamlLimit> {
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let start = skip_spaces(bytes, indent);
        if start == bytes.len() {
            return Ok(());
        }
        if let Some(parent) = self.literal {
            if indent > parent {
                return Ok(());
            }
            self.literal = None;
        }
        let mut pos = 0;
        if let Some(quote) = self.quote {
            let Some(end) = close_quote(bytes, 0, quote) else { return Ok(()) };
            self.quote = None;
            pos = end;
            if self.flow == 0 {
                // What follows a multi-line quoted value is a comment, if anything.
                return Ok(());
            }
        }
        if self.flow > 0 {
            return self.flow_part(bytes, pos, number);
        }
        match bytes[start] {
            b'#' => return Ok(()),
            b'%' if indent == 0 => return Ok(()),
            _ => {}
        }
        pos = start;
        if indent == 0
            && (bytes.starts_with(b"---") || bytes.starts_with(b"..."))
            && bytes.get(3).is_none_or(|&b| is_space(b))
        {
            // A new document starts with no open collections.
            self.indents.clear();
            pos = skip_spaces(bytes, 3);
            if pos == bytes.len() {
                return Ok(());
            }
        } else {
            while self.indents.last().is_some_and(|&open| open > indent) {
                self.indents.pop();
            }
            if self.indents.last() != Some(&indent) {
                self.indents.push(indent);
            }
        }
        let depth = self.indents.len().max(1);
        self.deeper(depth, number)?;
        self.block_part(bytes, pos, indent, depth, number)
    }

    /// The rest of a line in block context from `pos`, at block depth `depth`.
    fn block_part(
        &mut self,
        bytes: &[u8],
        mut pos: usize,
        indent: usize,
        mut depth: usize,
        number: usize,
    ) -> Result<(), YamlLimit> {
        // The first entry on a line belongs to the collection its indentation opened; each
        // further `- `, `? ` or `key:` on the same line opens one more.
        let mut first = true;
        loop {
            let Some(&b) = bytes.get(pos) else { return Ok(()) };
            if indicator_at(bytes, pos, b'-') || indicator_at(bytes, pos, b'?') || indicator_at(bytes, pos, b':') {
                if !first && b != b':' {
                    depth += 1;
                    self.deeper(depth, number)?;
                }
                first = false;
                pos = skip_spaces(bytes, pos + 1);
                continue;
            }
            match b {
                b'#' => return Ok(()),
                // An anchor or a tag comes before the node it names.
                b'&' | b'!' | b'*' => {
                    while bytes.get(pos).is_some_and(|&b| !is_space(b)) {
                        pos += 1;
                    }
                    pos = skip_spaces(bytes, pos);
                }
                b'[' | b'{' => {
                    // A line that starts with a flow collection opens no block collection.
                    self.base = if first { depth - 1 } else { depth };
                    return self.flow_part(bytes, pos, number);
                }
                b'|' | b'>' => {
                    self.literal = Some(indent);
                    return Ok(());
                }
                b'"' | b'\'' => {
                    let Some(end) = close_quote(bytes, pos + 1, b) else {
                        self.base = depth;
                        self.quote = Some(b);
                        return Ok(());
                    };
                    pos = skip_spaces(bytes, end);
                    if !indicator_at(bytes, pos, b':') {
                        return Ok(());
                    }
                    // A quoted key.
                    if !first {
                        depth += 1;
                        self.deeper(depth, number)?;
                    }
                    first = false;
                    pos = skip_spaces(bytes, pos + 1);
                }
                _ => {
                    // A plain scalar: a key if `: ` follows it on this line, else a value.
                    let mut end = pos;
                    loop {
                        match bytes.get(end) {
                            None => return Ok(()),
                            Some(b'#') if end > 0 && is_space(bytes[end - 1]) => return Ok(()),
                            Some(b':') if bytes.get(end + 1).is_none_or(|&b| is_space(b)) => break,
                            Some(_) => end += 1,
                        }
                    }
                    if !first {
                        depth += 1;
                        self.deeper(depth, number)?;
                    }
                    first = false;
                    pos = skip_spaces(bytes, end + 1);
                }
            }
        }
    }

    /// The rest of a line inside (or opening) flow collections from `pos`.
    fn flow_part(&mut self, bytes: &[u8], mut pos: usize, number: usize) -> Result<(), YamlLimit> {
        while let Some(&b) = bytes.get(pos) {
            match b {
                b'#' if pos == 0 || is_space(bytes[pos - 1]) => return Ok(()),
                b'"' | b'\'' => match close_quote(bytes, pos + 1, b) {
                    Some(end) => {
                        pos = end;
                        continue;
                    }
                    None => {
                        self.quote = Some(b);
                        return Ok(());
                    }
                },
                b'[' | b'{' => {
                    self.flow += 1;
                    self.deeper(self.base + self.flow, number)?;
                }
                b']' | b'}' => self.flow = self.flow.saturating_sub(1),
                _ => {}
            }
            pos += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str, max: usize) -> Option<usize> {
        match check_with(text, usize::MAX, max) {
            Ok(()) => None,
            Err(e) => e.line(),
        }
    }

    /// The smallest limit the text passes: the depth the scanner counts.
    fn depth(text: &str) -> usize {
        (1..100).find(|&max| check_with(text, usize::MAX, max).is_ok()).unwrap_or(100)
    }

    #[test]
    fn counts_block_and_flow_nesting() {
        assert_eq!(depth("a: 1\nb: 2\n"), 1);
        assert_eq!(depth("a:\n  b:\n    c: 1\n"), 3);
        assert_eq!(depth("a:\n  - x\n  - y\n"), 2);
        assert_eq!(depth("a:\n  - b: 1\n    c: 2\n"), 3);
        assert_eq!(depth("a: [1, [2, {b: 3}]]\n"), 4);
        assert_eq!(depth("{\"a\": [1, 2]}\n"), 2);
        assert_eq!(depth("[[1], [2]]\n"), 2);
        assert_eq!(depth("- - - x\n"), 3);
        assert_eq!(depth("a:\n  b: [\n    [1],\n    [2]\n  ]\nc: 1\n"), 4);
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        assert_eq!(depth("a: 'x [[[ y'\nb: \"[[[\\\" [[\"\nc: see a[0] and {b}\n"), 1);
        assert_eq!(depth("a: 1 # [[[[[[\n# {{{{{{\n"), 1);
        assert_eq!(depth("a: |\n  [[[[[[\n  {{{{{{\nb: >-\n  [[[[\n"), 1);
        assert_eq!(depth("a: 'it''s [[[['\nb: [\"]]]]\", '[[[[', x]\n"), 2);
        assert_eq!(depth("a: \"two\n  lines [[[[\"\nb: 1\n"), 1);
        assert_eq!(depth("a: &x [1]\nb: *x\nc: !tag {d: 1}\n"), 2);
    }

    #[test]
    fn names_the_line_where_the_limit_is_passed() {
        let flow = format!("a: 1\nb: {}{}\n", "[".repeat(10), "]".repeat(10));
        assert_eq!(depth_error(&flow, 8), Some(2));
        assert_eq!(depth_error(&flow, 11), None);
        let block: String = (0..10).map(|d| format!("{}k{d}:\n", "  ".repeat(d))).collect();
        assert_eq!(depth_error(&block, 8), Some(9));
        assert_eq!(depth_error(&block, 10), None);
        let spread = format!("a: [\n{}\n]\n", "[\n".repeat(5));
        assert_eq!(depth_error(&spread, 4), Some(4));
    }

    #[test]
    fn a_new_document_starts_at_depth_zero() {
        let deep: String = (0..5).map(|d| format!("{}k{d}:\n", "  ".repeat(d))).collect();
        assert_eq!(depth(&format!("{deep}---\na: 1\n")), 5);
        assert_eq!(depth(&format!("{deep}--- [1]\n")), 5);
    }

    #[test]
    fn the_default_limits() {
        let nested = format!("system: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(check_yaml_bounds(&nested), Err(YamlLimit::TooDeep { line: 1, limit: YAML_MAX_DEPTH }));
        let at_limit = format!("a: {}{}\n", "[".repeat(YAML_MAX_DEPTH - 1), "]".repeat(YAML_MAX_DEPTH - 1));
        assert_eq!(check_yaml_bounds(&at_limit), Ok(()));
        let large = format!("a: '{}'\n", "x".repeat(YAML_MAX_BYTES));
        assert_eq!(
            check_yaml_bounds(&large),
            Err(YamlLimit::TooLarge { bytes: YAML_MAX_BYTES + 6, limit: YAML_MAX_BYTES })
        );
        assert_eq!(YamlLimit::TooLarge { bytes: 2, limit: 1 }.line(), None);
    }
}
