//! Reading documents: JSON, YAML or TOML text to a [`Value`], within the document
//! bounds of [`Limits`] (`max_input_bytes`, `max_depth`, `max_string_len`,
//! `max_list_len`, `max_alias_events`).
//!
//! Changes and inventories both come through here. Every format is read by its own
//! well-kept parser and converted by one visitor, which enforces the limits as it
//! goes (so a deep or huge document is refused before it is built) and notices
//! duplicate keys, which `serde_json` would otherwise silently resolve to the last.
//!
//! Format notes:
//!
//! - **JSON**: integers that fit `i64` stay exact; other numbers become
//!   [`Value::Float`].
//! - **YAML** (1.2 core schema, read by `serde-saphyr`): only `true` and `false` are
//!   booleans; `yes`, `no`, `on` and `off` stay strings. Anchors and aliases work but
//!   the events replayed by aliases are bounded by [`Limits::max_alias_events`], so a
//!   "billion laughs" document is refused. A stream of several documents is refused.
//! - **TOML**: datetimes become strings in their TOML spelling; TOML itself refuses
//!   duplicate keys.
//!
//! ```
//! use changegate::input::{parse_value, Format};
//! use changegate::{Limits, Value};
//!
//! let v = parse_value("risk: low\nenabled: on\n", Format::Yaml, &Limits::default())?;
//! assert_eq!(v.get("enabled"), Some(&Value::from("on")));
//! # Ok::<(), changegate::input::InputError>(())
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use miette::{Diagnostic, SourceSpan};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use thiserror::Error;

use crate::value::{Map, Value};

// The bounds on a document are fields of the crate's one [`Limits`]
// (`max_input_bytes`, `max_depth`, `max_string_len`, `max_list_len`,
// `max_alias_events`).
use crate::limits::Limits;

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON (RFC 8259).
    Json,
    /// YAML 1.2, one document.
    Yaml,
    /// TOML 1.0.
    Toml,
}

impl Format {
    /// The format a file's extension names: `.json`, `.yaml`/`.yml` or `.toml`
    /// (any case); `None` for anything else.
    ///
    /// `.jsonl` is not accepted: a change or an inventory is one document.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// The format's name as diagnostics spell it: `JSON`, `YAML`, `TOML`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong while reading a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// The file could not be read.
    Io,
    /// The file's extension names no known format.
    UnknownFormat,
    /// The document is larger than [`Limits::max_input_bytes`].
    TooLarge,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The text is not valid JSON, YAML or TOML.
    Syntax,
    /// Lists and objects nest deeper than [`Limits::max_depth`].
    TooDeep,
    /// A string is longer than [`Limits::max_string_len`].
    StringTooLong,
    /// A list is longer than [`Limits::max_list_len`].
    ListTooLong,
    /// YAML aliases or the YAML parser's budget were exceeded.
    AliasLimit,
    /// An object has the same key twice.
    DuplicateKey,
    /// A YAML stream holds more than one document.
    MultipleDocuments,
    /// A value of a kind no [`Value`] holds (binary data, a non-scalar key).
    Unsupported,
}

/// What went wrong while reading a document: one variant per problem, each shown
/// with an input that triggers it. Every variant renders with the code
/// `changegate::input` (the code the command line has always printed for them);
/// [`InputProblem::limit`] tells which limit a limit error broke.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
#[non_exhaustive]
pub(crate) enum InputProblem {
    /// The file could not be read: `changegate evaluate -c missing.json` when there
    /// is no such file, or `-c some-folder.json` naming a directory.
    #[error("cannot read `{name}`: {reason}")]
    #[diagnostic(code(changegate::input))]
    Io {
        /// The file, as given.
        name: String,
        /// The system's reason, first letter lowercased.
        reason: String,
    },
    /// The file's extension names no known format: `change.txt`.
    #[error("cannot tell the format of `{name}`")]
    #[diagnostic(code(changegate::input))]
    UnknownFormat {
        /// The file, as given.
        name: String,
    },
    /// The document is larger than [`Limits::max_input_bytes`]: `{"a": 1}` with
    /// `max_input_bytes: 4`.
    #[error("`{name}` {} more than the limit of {limit} bytes", size_words(.size))]
    #[diagnostic(code(changegate::input))]
    TooLarge {
        /// The document, as named.
        name: String,
        /// Its size, when known before reading (a file that says its size).
        size: Option<u64>,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not UTF-8: `{"a": "\xe9"}` saved as Latin-1.
    #[error("invalid UTF-8 at byte {offset} (byte 0x{byte:02x})")]
    #[diagnostic(code(changegate::input))]
    NotUtf8 {
        /// The offset of the first bad byte.
        offset: usize,
        /// That byte.
        byte: u8,
    },
    /// The text is not valid JSON, YAML or TOML (`{"a": 1,}`), or uses YAML the
    /// reader refuses (a tag: `!!str true`). The message is the parser's, prefixed
    /// with the format: `invalid JSON: trailing comma`.
    #[error("{message}")]
    #[diagnostic(code(changegate::input))]
    Syntax {
        /// What the parser said.
        message: String,
    },
    /// Lists and objects nest deeper than [`Limits::max_depth`]: `[[[1]]]` with
    /// `max_depth: 2`.
    #[error("lists and objects nest deeper than the limit of {limit} levels")]
    #[diagnostic(code(changegate::input))]
    TooDeep {
        /// The nesting limit in force ([`Limits::depth_limit`]).
        limit: usize,
    },
    /// A string is longer than [`Limits::max_string_len`]: `"abcdef"` with
    /// `max_string_len: 5`.
    #[error("string of {len} bytes is longer than the limit of {limit} bytes")]
    #[diagnostic(code(changegate::input))]
    StringTooLong {
        /// The string's length in bytes.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A list is longer than [`Limits::max_list_len`]: `[1, 2, 3]` with
    /// `max_list_len: 2`.
    #[error("list has more than the limit of {limit} items")]
    #[diagnostic(code(changegate::input))]
    ListTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// YAML aliases replayed more than [`Limits::max_alias_events`] events ("billion
    /// laughs": nine anchors each listing the previous one nine times), or the YAML
    /// parser's own budget was exceeded.
    #[error("{message}")]
    #[diagnostic(code(changegate::input))]
    AliasLimit {
        /// What was exceeded.
        message: String,
    },
    /// An object has the same key twice: `{"a": 1, "a": 2}`.
    #[error("duplicate key `{key}`")]
    #[diagnostic(code(changegate::input))]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A YAML stream holds more than one document: `a: 1\n---\nb: 2`.
    #[error("the YAML stream holds more than one document")]
    #[diagnostic(code(changegate::input))]
    MultipleDocuments,
    /// A value of a kind no [`Value`] holds: YAML `? [a, b]\n: 1` (a list as a key),
    /// or binary data.
    #[error("{message}")]
    #[diagnostic(code(changegate::input))]
    Unsupported {
        /// What is not supported.
        message: String,
    },
}

/// `is N bytes,` when the size is known, `holds` when it is not.
fn size_words(size: &Option<u64>) -> String {
    size.map_or_else(|| "holds".to_owned(), |len| format!("is {len} bytes,"))
}

impl InputProblem {
    /// The problem's kind, without its details.
    pub(crate) fn kind(&self) -> InputErrorKind {
        match self {
            InputProblem::Io { .. } => InputErrorKind::Io,
            InputProblem::UnknownFormat { .. } => InputErrorKind::UnknownFormat,
            InputProblem::TooLarge { .. } => InputErrorKind::TooLarge,
            InputProblem::NotUtf8 { .. } => InputErrorKind::NotUtf8,
            InputProblem::Syntax { .. } => InputErrorKind::Syntax,
            InputProblem::TooDeep { .. } => InputErrorKind::TooDeep,
            InputProblem::StringTooLong { .. } => InputErrorKind::StringTooLong,
            InputProblem::ListTooLong { .. } => InputErrorKind::ListTooLong,
            InputProblem::AliasLimit { .. } => InputErrorKind::AliasLimit,
            InputProblem::DuplicateKey { .. } => InputErrorKind::DuplicateKey,
            InputProblem::MultipleDocuments => InputErrorKind::MultipleDocuments,
            InputProblem::Unsupported { .. } => InputErrorKind::Unsupported,
        }
    }

    /// Which limit the document broke, for a limit error. The limits a caller sets
    /// are named by [`crate::limits::Limit`]; a front end maps them to its own
    /// settings (the command line to its `--max-*` flags).
    pub(crate) fn limit(&self) -> Option<crate::limits::Limit> {
        use crate::limits::Limit;
        match self {
            InputProblem::TooLarge { .. } => Some(Limit::InputBytes),
            InputProblem::TooDeep { .. } => Some(Limit::Depth),
            InputProblem::StringTooLong { .. } => Some(Limit::StringLen),
            InputProblem::ListTooLong { .. } => Some(Limit::ListLen),
            InputProblem::AliasLimit { .. } => Some(Limit::AliasEvents),
            _ => None,
        }
    }
}

/// A document that could not be read, with the place in it that is at fault.
///
/// The source text travels with the error, so it renders on its own with miette.
#[derive(Debug, Error, Diagnostic)]
#[error(transparent)]
#[diagnostic(transparent)]
pub struct InputError(Box<Details>);

/// The fields of an [`InputError`], boxed so that results stay small: the problem
/// (message and code) and where it is.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(forward(problem))]
struct Details {
    problem: InputProblem,
    /// `problem` in words, kept so that [`InputError::message`] can lend it.
    message: String,
    #[source_code]
    src: crate::diag::Excerpt,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    help: Option<String>,
    line: usize,
    column: usize,
}

impl InputError {
    /// What kind of problem this is.
    pub fn kind(&self) -> InputErrorKind {
        self.0.problem.kind()
    }

    /// The problem, with its details.
    #[cfg(test)]
    pub(crate) fn problem(&self) -> &InputProblem {
        &self.0.problem
    }

    /// Which limit the document broke, for a limit error.
    pub fn limit(&self) -> Option<crate::limits::Limit> {
        self.0.problem.limit()
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The 1-based line of the fault, 0 when it has no place (an I/O error).
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The 1-based column (in characters) of the fault, 0 when it has no place.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// The byte range at fault, if there is one.
    pub fn span(&self) -> Option<SourceSpan> {
        self.0.span
    }

    /// The advice, if any.
    pub fn advice(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// The name of the document (usually its path).
    pub fn source_name(&self) -> &str {
        self.0.src.name()
    }

    fn without_place(problem: InputProblem, name: &str, help: Option<String>) -> Self {
        InputError(Box::new(Details {
            message: problem.to_string(),
            problem,
            src: crate::diag::Excerpt::new(name, "", 0, 0),
            span: None,
            label: String::new(),
            help,
            line: 0,
            column: 0,
        }))
    }

    fn at(
        problem: InputProblem,
        name: &str,
        text: &str,
        span: Range<usize>,
        label: &str,
        help: Option<String>,
    ) -> Self {
        let (line, column) = line_col(text, span.start);
        // Only a bounded excerpt around the place is kept and quoted.
        let (src, span) = crate::diag::Excerpt::around(name, text, span.start, span.len());
        InputError(Box::new(Details {
            message: problem.to_string(),
            problem,
            src,
            span: Some(span),
            label: label.to_owned(),
            help,
            line,
            column,
        }))
    }
}

/// Parses `text` as `format` within `limits`, naming it `<input>` in diagnostics.
pub fn parse_value(text: &str, format: Format, limits: &Limits) -> Result<Value, InputError> {
    parse_named(text, format, "<input>", limits)
}

/// Parses `text` as `format` within `limits`; `name` (usually the path) names the
/// document in diagnostics. A duplicate key is an error.
pub fn parse_named(
    text: &str,
    format: Format,
    name: &str,
    limits: &Limits,
) -> Result<Value, InputError> {
    let (value, duplicates) = parse_with_duplicates(text, format, name, limits)?;
    match duplicates.into_iter().next() {
        None => Ok(value),
        Some(dup) => Err(duplicate_key_error(text, format, name, &dup)),
    }
}

/// Parses raw bytes: refuses more than [`Limits::max_input_bytes`] and anything that is not
/// UTF-8 (the error points at the first bad byte), then reads as [`parse_named`].
pub fn parse_bytes(
    bytes: &[u8],
    format: Format,
    name: &str,
    limits: &Limits,
) -> Result<Value, InputError> {
    let text = check_bytes(bytes, name, limits)?;
    parse_named(text, format, name, limits)
}

/// Reads a file, choosing the format from its extension ([`Format::from_path`]).
pub fn read_file(path: &Path, limits: &Limits) -> Result<Value, InputError> {
    let (bytes, format, name) = read_source(path, limits)?;
    parse_bytes(&bytes, format, &name, limits)
}

/// [`read_file`], also giving the text the value was parsed from, in one read: for a
/// caller that points at places in the file afterwards ([`position`]).
pub fn read_file_with_text(path: &Path, limits: &Limits) -> Result<(Value, String), InputError> {
    let (bytes, format, name) = read_source(path, limits)?;
    let text = check_bytes(&bytes, &name, limits)?;
    let value = parse_named(text, format, &name, limits)?;
    Ok((value, text.to_owned()))
}

/// Reads a file's bytes and format, refusing an unknown extension or a file larger
/// than the limit before reading it whole.
pub(crate) fn read_source(
    path: &Path,
    limits: &Limits,
) -> Result<(Vec<u8>, Format, String), InputError> {
    let name = path.display().to_string();
    let format = Format::from_path(path).ok_or_else(|| {
        InputError::without_place(
            InputProblem::UnknownFormat { name: name.clone() },
            &name,
            Some("name the file `.json`, `.yaml`, `.yml` or `.toml`".to_owned()),
        )
    })?;
    let io_error = |e: std::io::Error| {
        InputError::without_place(
            InputProblem::Io {
                name: name.clone(),
                reason: lowercase_first(&e.to_string()),
            },
            &name,
            None,
        )
    };
    let bytes = match read_bounded(path, limits.max_input_bytes, FileKinds::Any) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(e)) => return Err(io_error(e)),
        Err(ReadError::TooLarge) => return Err(too_large(&name, None, limits)),
        Err(ReadError::NotAllowed(kind)) => {
            return Err(io_error(std::io::Error::other(format!("it is {kind}"))))
        }
    };
    Ok((bytes, format, name))
}

/// Reads a policy file as UTF-8 within `limit` bytes (enforced while reading); the
/// error is a message naming the file. Policies, unlike documents, have no format
/// to tell and no place to point at in an error, hence the plain message.
pub(crate) fn read_text(path: &Path, limit: usize, kinds: FileKinds) -> Result<String, String> {
    let bytes = read_bounded(path, limit, kinds).map_err(|e| match e {
        ReadError::Io(e) => format!("cannot read `{}`: {e}", path.display()),
        ReadError::TooLarge => format!(
            "`{}` holds more than the limit of {limit} bytes",
            path.display()
        ),
        ReadError::NotAllowed(kind) => {
            format!("cannot read `{}`: it is {kind}", path.display())
        }
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{}` is not UTF-8 text: invalid byte at offset {}",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Which kinds of file [`read_bounded`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKinds {
    /// Regular files only (policy imports: a FIFO nobody writes would block).
    Regular,
    /// Anything but a directory: regular files, pipes (`<(...)`), devices.
    Any,
}

/// Why [`read_bounded`] read nothing.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// More than the limit: only `limit + 1` bytes were read.
    TooLarge,
    /// A kind of file that is not read here ("a directory", "a FIFO", ...).
    NotAllowed(&'static str),
}

/// Reads at most `limit` bytes of `path` (symbolic links followed): the limit holds
/// while reading, whatever size the file reports, so `/dev/zero` or a pipe that never
/// ends costs `limit + 1` bytes and then an error. Every file changegate reads comes
/// through here or `read_bounded_from`.
pub fn read_bounded(path: &Path, limit: usize, kinds: FileKinds) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(ReadError::NotAllowed("a directory"));
    }
    if kinds == FileKinds::Regular && !kind.is_file() {
        return Err(ReadError::NotAllowed(
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    if kind.is_file() && usize::try_from(meta.len()).map_or(true, |len| len > limit) {
        return Err(ReadError::TooLarge);
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    read_bounded_from(file, limit)
}

/// Reads at most `limit` bytes from `reader` (standard input, say).
pub(crate) fn read_bounded_from(
    reader: impl std::io::Read,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    std::io::Read::read_to_end(&mut reader.take(cap), &mut bytes).map_err(ReadError::Io)?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

use crate::limits::HARD_MAX_DEPTH;

impl Limits {
    /// The nesting limit in force: [`Limits::max_depth`], at most 256 whatever it says (the readers recurse once per level).
    pub fn depth_limit(&self) -> usize {
        self.max_depth.min(HARD_MAX_DEPTH)
    }
}

/// Checks the size and encoding of raw bytes.
pub fn check_bytes<'b>(
    bytes: &'b [u8],
    name: &str,
    limits: &Limits,
) -> Result<&'b str, InputError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(too_large(name, Some(bytes.len() as u64), limits));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        // The lossy text has U+FFFD (3 bytes) where the bad bytes were, but the text
        // before the first bad byte is unchanged, so `offset` is right in it.
        let bad = bytes.get(offset).copied().unwrap_or(0);
        InputError::at(
            InputProblem::NotUtf8 { offset, byte: bad },
            name,
            &lossy,
            offset..offset + '\u{FFFD}'.len_utf8(),
            "not UTF-8",
            Some("save the file as UTF-8".to_owned()),
        )
    })
}

fn too_large(name: &str, len: Option<u64>, limits: &Limits) -> InputError {
    InputError::without_place(
        InputProblem::TooLarge {
            name: name.to_owned(),
            size: len,
            limit: limits.max_input_bytes,
        },
        name,
        Some("split the document, or raise the size limit".to_owned()),
    )
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// The `nth` (0-based) occurrence of a key in an object.
    Key(String, usize),
    /// An item of a list.
    Index(usize),
}

/// A key that appeared more than once in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The path to the repeated key, its last segment the repeated occurrence.
    pub(crate) path: Vec<Seg>,
}

impl Duplicate {
    /// The repeated key.
    pub(crate) fn key(&self) -> &str {
        match self.path.last() {
            Some(Seg::Key(k, _)) => k,
            _ => "",
        }
    }
}

pub(crate) fn duplicate_key_error(
    text: &str,
    format: Format,
    name: &str,
    dup: &Duplicate,
) -> InputError {
    let key = dup.key();
    let span = locate(text, format, &dup.path).map_or(0..0, |l| l.key);
    InputError::at(
        InputProblem::DuplicateKey {
            key: key.to_owned(),
        },
        name,
        text,
        span,
        "defined again here",
        Some("each key may appear once in an object; remove or rename one".to_owned()),
    )
}

/// Parses a document, returning duplicate keys instead of refusing them (the first
/// occurrence stands in the value), so a caller can report them with other problems.
pub(crate) fn parse_with_duplicates(
    text: &str,
    format: Format,
    name: &str,
    limits: &Limits,
) -> Result<(Value, Vec<Duplicate>), InputError> {
    let state = State::new(limits);
    let seed = ValueSeed::new(&state, 0, None);
    let value = run(text, format, name, &state, seed)?;
    Ok((value, state.into_duplicates()))
}

/// Reads `text` with `seed`, which enforces the limits of `state`; parser errors and
/// limit failures become an [`InputError`] at their place.
pub(crate) fn run<S, T>(
    text: &str,
    format: Format,
    name: &str,
    state: &State<'_>,
    seed: S,
) -> Result<T, InputError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let limits = state.limits;
    if text.len() > limits.max_input_bytes {
        return Err(too_large(name, Some(text.len() as u64), limits));
    }
    if format == Format::Yaml {
        yaml_precheck(text, name)?;
    }
    let result = match format {
        Format::Json => parse_json(text, seed),
        Format::Yaml => parse_yaml(text, seed, limits),
        Format::Toml => parse_toml(text, seed),
    };
    result.map_err(|raw| raw.into_error(text, format, name, state.failure.take()))
}

/// What the YAML reader does not read as the YAML 1.2 spec says, refused before it
/// reads (fail closed, at the place):
///
/// * any tag on a node: serde-saphyr resolves a tagged plain scalar by its text
///   (`!!str true` would be a boolean), so tags are refused rather than misread; a
///   value that must be a string is quoted instead;
/// * a merge key (`<<`) whose value is a list of more than one map: the spec gives
///   the earlier maps precedence, serde-saphyr the later ones.
///
/// The walk is over the parser's events with an explicit stack, so it costs no
/// recursion; the depth limit is the reader's own.
fn yaml_precheck(text: &str, name: &str) -> Result<(), InputError> {
    let bom = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let body = text.get(bom..).unwrap_or_default();
    let mut walk = PrecheckWalk::default();
    let mut parser = saphyr_parser::Parser::new_from_str(body);
    while let Some(next) = parser.next_event() {
        // Syntax errors are the reader's to report, with its wording.
        let Ok((event, span)) = next else {
            return Ok(());
        };
        if let Err(refusal) = walk.step(&event) {
            let at = offset_of_line_col(body, span.start.line(), span.start.col(), true);
            let place = point(body, at);
            return Err(refusal.into_error(name, text, place.start + bom..place.end + bom));
        }
    }
    Ok(())
}

/// What [`yaml_precheck`] refuses.
enum YamlRefusal {
    /// A tag on a node, as written (`!!str`).
    Tag(String),
    /// A merge key whose value is a list of more than one map.
    MergeOfSeveral,
}

impl YamlRefusal {
    /// The refusal as the error at `span` of `text`.
    fn into_error(self, name: &str, text: &str, span: Range<usize>) -> InputError {
        let (message, help) = match self {
            YamlRefusal::Tag(tag) => (
                format!("YAML tag `{tag}` is not supported"),
                "remove the tag; quote a value that must be a string (`\"true\"`)",
            ),
            YamlRefusal::MergeOfSeveral => (
                "a merge key (`<<`) with a list of several maps is not supported".to_owned(),
                "merge one map, or write the keys out: which map wins is read differently by different tools",
            ),
        };
        InputError::at(
            InputProblem::Syntax { message },
            name,
            text,
            span,
            "here",
            Some(help.to_owned()),
        )
    }
}

/// A collection open in [`yaml_precheck`]'s walk.
#[derive(Clone, Copy)]
enum Frame {
    /// A mapping: whether its next node is a key, and whether the value about to
    /// come is that of a merge key.
    Map { key_next: bool, merge_value: bool },
    /// A sequence: whether it is a merge value, and its items so far.
    Seq { merge: bool, items: usize },
}

/// [`yaml_precheck`]'s walk over the parser's events, with an explicit stack.
#[derive(Default)]
struct PrecheckWalk {
    /// The open collections, innermost last.
    stack: Vec<Frame>,
    /// Anchors of sequences of more than one item: merging one is refused too.
    long_seqs: rustc_hash::FxHashSet<usize>,
    /// The anchor of each open sequence (0 for none).
    seq_anchor: Vec<usize>,
}

impl PrecheckWalk {
    /// Takes the next event, refusing what the reader would misread.
    fn step(&mut self, event: &saphyr_parser::Event<'_>) -> Result<(), YamlRefusal> {
        use saphyr_parser::{Event, ScalarStyle};
        if let Some(tag) = tag_of(event) {
            return Err(YamlRefusal::Tag(format!("{}{}", tag.handle, tag.suffix)));
        }
        let (is_merge_value, is_key) = self.enter(event);
        match event {
            Event::Scalar(v, ScalarStyle::Plain, _, None) if is_key && v == "<<" => {
                if let Some(Frame::Map { merge_value, .. }) = self.stack.last_mut() {
                    *merge_value = true;
                }
            }
            Event::Alias(id) if is_merge_value && self.long_seqs.contains(id) => {
                return Err(YamlRefusal::MergeOfSeveral);
            }
            Event::MappingStart(..) => self.stack.push(Frame::Map {
                key_next: true,
                merge_value: false,
            }),
            Event::SequenceStart(anchor, _) => {
                self.seq_anchor.push(*anchor);
                self.stack.push(Frame::Seq {
                    merge: is_merge_value,
                    items: 0,
                });
            }
            Event::MappingEnd => {
                self.stack.pop();
            }
            Event::SequenceEnd => self.end_sequence()?,
            _ => {}
        }
        Ok(())
    }

    /// Counts `event` in the innermost open collection: whether it is the value of
    /// a merge key, and whether it is a key.
    fn enter(&mut self, event: &saphyr_parser::Event<'_>) -> (bool, bool) {
        match self.stack.last_mut() {
            Some(Frame::Map {
                key_next,
                merge_value,
            }) => {
                let was_key = *key_next;
                let m = *merge_value;
                *key_next = !*key_next;
                *merge_value = false;
                (m && !was_key, was_key)
            }
            Some(Frame::Seq { items, .. }) => {
                if !matches!(event, saphyr_parser::Event::SequenceEnd) {
                    *items += 1;
                }
                (false, false)
            }
            None => (false, false),
        }
    }

    /// Closes the innermost sequence: refused if it is a merge value of several
    /// items, remembered by its anchor if it has several.
    fn end_sequence(&mut self) -> Result<(), YamlRefusal> {
        let anchor = self.seq_anchor.pop().unwrap_or(0);
        if let Some(Frame::Seq { merge, items }) = self.stack.pop() {
            if items > 1 && merge {
                return Err(YamlRefusal::MergeOfSeveral);
            }
            if items > 1 && anchor != 0 {
                self.long_seqs.insert(anchor);
            }
        }
        Ok(())
    }
}

/// The tag on a node event, if it has one.
fn tag_of<'e>(event: &'e saphyr_parser::Event<'_>) -> Option<&'e saphyr_parser::Tag> {
    use saphyr_parser::Event;
    match event {
        Event::Scalar(_, _, _, t) | Event::SequenceStart(_, t) | Event::MappingStart(_, t) => {
            t.as_deref()
        }
        _ => None,
    }
}

/// A parser's error before it becomes an [`InputError`]: a message and a place.
struct RawError {
    problem: InputProblem,
    offset: Option<Range<usize>>,
    help: Option<String>,
}

impl RawError {
    fn into_error(
        self,
        text: &str,
        format: Format,
        name: &str,
        failure: Option<Failure>,
    ) -> InputError {
        let mut span = self.offset.map(|r| clamp_span(text, r));
        // A limit the visitor enforced explains itself better than the parser's
        // wrapping of it; saphyr does not place such errors, so find the value.
        let (problem, help, label) = match failure {
            Some(f) => {
                if span.is_none() || !f.path.is_empty() {
                    span = locate(text, format, &f.path).map(|l| l.value).or(span);
                }
                (f.problem, Some(f.help), "here")
            }
            None => (self.problem, self.help, "here"),
        };
        let span = span.unwrap_or_else(|| point(text, text.len()));
        let help = help.or_else(|| Some(format!("the document is read as {format}")));
        InputError::at(problem, name, text, span, label, help)
    }
}

fn parse_json<S, T>(text: &str, seed: S) -> Result<T, RawError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let mut de = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let offset = offset_of_line_col(text, e.line(), e.column().saturating_sub(1), false);
        let message = strip_json_position(&e.to_string());
        RawError {
            problem: InputProblem::Syntax {
                message: format!("invalid JSON: {message}"),
            },
            offset: Some(point(text, offset)),
            help: None,
        }
    })
}

fn parse_yaml<S, T>(text: &str, seed: S, limits: &Limits) -> Result<T, RawError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    use serde_saphyr::options::{AliasLimits, DuplicateKeyPolicy};
    // saphyr skips a leading byte-order mark itself; its positions then start after it.
    let bom = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let body = text.get(bom..).unwrap_or_default();
    let options = serde_saphyr::Options {
        budget: Some(serde_saphyr::Budget {
            max_reader_input_bytes: Some(limits.max_input_bytes),
            // Every raw event but the stream and document markers takes at least one
            // byte of input, so the size limit bounds them already; the budget is a
            // second fence, not the policy.
            max_events: limits.max_input_bytes.saturating_add(16),
            max_nodes: limits.max_input_bytes.saturating_add(16),
            max_total_scalar_bytes: limits.max_input_bytes,
            max_depth: limits.depth_limit(),
            ..serde_saphyr::Budget::default()
        }),
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        alias_limits: AliasLimits {
            max_total_replayed_events: limits.max_alias_events,
            max_replay_stack_depth: limits.depth_limit(),
            max_alias_expansions_per_anchor: usize::MAX,
        },
        strict_booleans: true,
        with_snippet: false,
        ..serde_saphyr::Options::default()
    };
    serde_saphyr::with_deserializer_from_str_with_options(body, options, |de| seed.deserialize(de))
        .map_err(|e| yaml_error(body, bom, &e, limits.depth_limit()))
}

fn yaml_error(body: &str, bom: usize, e: &serde_saphyr::Error, max_depth: usize) -> RawError {
    use serde_saphyr::Error as E;
    let offset = e.location().map(|loc| {
        let at = offset_of_line_col(
            body,
            usize::try_from(loc.line()).unwrap_or(usize::MAX),
            usize::try_from(loc.column()).unwrap_or(1).saturating_sub(1),
            true,
        );
        point(body, at).start + bom..point(body, at).end + bom
    });
    let inner = match e {
        E::WithSnippet { error, .. } => error.as_ref(),
        other => other,
    };
    let (problem, help) = match inner {
        E::Message { msg, .. } if msg.starts_with("multiple YAML documents") => (
            InputProblem::MultipleDocuments,
            Some("keep one document: remove the `---` separator and what follows it".to_owned()),
        ),
        E::Message { msg, .. } if msg.contains("alias") => (
            InputProblem::AliasLimit {
                message: format!("YAML aliases expand too far: {msg}"),
            },
            Some("aliases and merges may not replay more than the alias limit; write the values out or simplify the anchors".to_owned()),
        ),
        E::Message { msg, .. } | E::HookError { msg, .. } => (
            InputProblem::Syntax {
                message: format!("invalid YAML: {}", lowercase_first(msg)),
            },
            None,
        ),
        E::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
            ..
        } => (
            InputProblem::TooDeep { limit: max_depth },
            Some("flatten the document".to_owned()),
        ),
        E::Budget { breach, .. } => (
            InputProblem::AliasLimit {
                message: format!("the YAML document exceeds the parser's budget ({breach:?})"),
            },
            Some("aliases and anchors may not expand the document beyond the limits".to_owned()),
        ),
        other => {
            let text = strip_yaml_position(&other.to_string());
            let message = format!("invalid YAML: {}", lowercase_first(&text));
            let problem = if text.contains("alias") || text.contains("replay") {
                InputProblem::AliasLimit { message }
            } else {
                InputProblem::Syntax { message }
            };
            (problem, None)
        }
    };
    RawError {
        problem,
        offset,
        help,
    }
}

fn parse_toml<S, T>(text: &str, seed: S) -> Result<T, RawError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let to_raw = |e: toml::de::Error| RawError {
        problem: InputProblem::Syntax {
            message: format!(
                "invalid TOML: {}",
                lowercase_first(e.message().trim_end().trim_end_matches('.'))
            ),
        },
        offset: e.span(),
        help: None,
    };
    let de = toml::Deserializer::parse(text).map_err(to_raw)?;
    seed.deserialize(de).map_err(to_raw)
}

/// A limit the visitor enforced; it outranks the parser's own account of the error.
struct Failure {
    problem: InputProblem,
    help: String,
    /// Where the offending value is, for parsers that do not say.
    path: Vec<Seg>,
}

/// What a reading shares: the limits, the first limit broken, duplicate keys.
pub(crate) struct State<'l> {
    limits: &'l Limits,
    failure: Cell<Option<Failure>>,
    duplicates: RefCell<Vec<Duplicate>>,
}

impl<'l> State<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        State {
            limits,
            failure: Cell::new(None),
            duplicates: RefCell::new(Vec::new()),
        }
    }

    /// The duplicate keys seen, in document order.
    pub(crate) fn into_duplicates(self) -> Vec<Duplicate> {
        self.duplicates.into_inner()
    }

    /// Records a repeated key at `path` (its last segment the key), numbering the
    /// occurrence.
    pub(crate) fn duplicate(&self, mut path: Vec<Seg>) {
        let mut dups = self.duplicates.borrow_mut();
        let earlier = dups.iter().filter(|d| same_place(&d.path, &path)).count();
        if let Some(Seg::Key(_, nth)) = path.last_mut() {
            *nth = earlier + 1;
        }
        dups.push(Duplicate { path });
    }

    /// One level deeper than `depth`, or an error past the limit.
    pub(crate) fn enter<E: de::Error>(
        &self,
        depth: usize,
        at: Option<&Link<'_>>,
    ) -> Result<usize, E> {
        let depth = depth + 1;
        if depth > self.limits.depth_limit() {
            return Err(self.fail(
                InputProblem::TooDeep {
                    limit: self.limits.depth_limit(),
                },
                "flatten the document".to_owned(),
                at,
            ));
        }
        Ok(depth)
    }

    /// An error for a list longer than the limit.
    pub(crate) fn list_too_long<E: de::Error>(&self, at: Option<&Link<'_>>) -> E {
        self.fail(
            InputProblem::ListTooLong {
                limit: self.limits.max_list_len,
            },
            "split the list".to_owned(),
            at,
        )
    }

    /// The most items a list may have.
    pub(crate) fn max_list_len(&self) -> usize {
        self.limits.max_list_len
    }

    fn fail<E: de::Error>(&self, problem: InputProblem, help: String, at: Option<&Link<'_>>) -> E {
        let error = E::custom(&problem);
        self.failure.set(Some(Failure {
            problem,
            help,
            path: path_of(at),
        }));
        error
    }

    /// An error for a string longer than the limit.
    pub(crate) fn check_str<E: de::Error>(&self, s: &str, at: Option<&Link<'_>>) -> Result<(), E> {
        if s.len() > self.limits.max_string_len {
            return Err(self.fail(
                InputProblem::StringTooLong {
                    len: s.len(),
                    limit: self.limits.max_string_len,
                },
                "shorten the string".to_owned(),
                at,
            ));
        }
        Ok(())
    }
}

/// Where a value sits, as a chain of links on the stack: built only when a
/// duplicate key needs its path.
pub(crate) struct Link<'a> {
    pub(crate) parent: Option<&'a Link<'a>>,
    pub(crate) seg: LinkSeg<'a>,
}

/// One step of a [`Link`] chain.
pub(crate) enum LinkSeg<'a> {
    Key(&'a str),
    Index(usize),
}

pub(crate) fn path_of(link: Option<&Link<'_>>) -> Vec<Seg> {
    let mut path = Vec::new();
    let mut cur = link;
    while let Some(l) = cur {
        path.push(match l.seg {
            LinkSeg::Key(k) => Seg::Key(k.to_owned(), 0),
            LinkSeg::Index(i) => Seg::Index(i),
        });
        cur = l.parent;
    }
    path.reverse();
    path
}

/// Reads any value into a [`Value`] within the limits.
#[derive(Clone, Copy)]
pub(crate) struct ValueSeed<'a, 'l> {
    state: &'a State<'l>,
    depth: usize,
    path: Option<&'a Link<'a>>,
}

impl<'a, 'l> ValueSeed<'a, 'l> {
    /// A seed for a value inside `depth` enclosing lists and objects, at `path`.
    pub(crate) fn new(state: &'a State<'l>, depth: usize, path: Option<&'a Link<'a>>) -> Self {
        ValueSeed { state, depth, path }
    }

    fn enter<E: de::Error>(&self) -> Result<usize, E> {
        self.state.enter(self.depth, self.path)
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// TOML hands datetimes to a visitor as a one-field map under this key.
const TOML_DATETIME: &str = "$__toml_private_datetime";

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-like value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        // Out of the i64 range: kept, as a number no comparison accepts.
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.state.check_str(v, self.path)?;
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.state.check_str(&v, self.path)?;
        Ok(Value::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Value, E> {
        Err(self.state.fail(
            InputProblem::Unsupported {
                message: "binary data is not supported".to_owned(),
            },
            "write the value as a string".to_owned(),
            self.path,
        ))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            let link = Link {
                parent: self.path,
                seg: LinkSeg::Index(items.len()),
            };
            let seed = ValueSeed {
                state: self.state,
                depth,
                path: Some(&link),
            };
            let Some(item) = seq.next_element_seed(seed)? else {
                break;
            };
            if items.len() == self.state.max_list_len() {
                return Err(self.state.list_too_long(self.path));
            }
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        let mut fields = Map::new();
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed { state: self.state })? {
            if first && key == TOML_DATETIME {
                let text: String = map.next_value()?;
                return Ok(Value::Str(text));
            }
            first = false;
            let link = Link {
                parent: self.path,
                seg: LinkSeg::Key(&key),
            };
            let value = map.next_value_seed(ValueSeed {
                state: self.state,
                depth,
                path: Some(&link),
            })?;
            // The first definition stands; a repeat is recorded for reporting.
            match fields.entry(key) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                std::collections::btree_map::Entry::Occupied(entry) => {
                    let mut path = path_of(self.path);
                    path.push(Seg::Key(entry.key().clone(), 0));
                    self.state.duplicate(path);
                }
            }
        }
        Ok(Value::Map(fields))
    }
}

/// Whether two paths name the same key of the same object, whatever the occurrence.
fn same_place(a: &[Seg], b: &[Seg]) -> bool {
    match (a.split_last(), b.split_last()) {
        (Some((Seg::Key(ka, _), pa)), Some((Seg::Key(kb, _), pb))) => ka == kb && pa == pb,
        _ => false,
    }
}

/// Object keys: strings, or scalars YAML allows as keys, spelled as text.
pub(crate) struct KeySeed<'a, 'l> {
    pub(crate) state: &'a State<'l>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.state.check_str(v, None)?;
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.state.check_str(&v, None)?;
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.non_scalar())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.non_scalar())
    }
}

impl KeySeed<'_, '_> {
    fn non_scalar<E: de::Error>(&self) -> E {
        self.state.fail(
            InputProblem::Unsupported {
                message: "an object key must be a string, not a list or an object".to_owned(),
            },
            "use a string key".to_owned(),
            None,
        )
    }
}

// ---------------------------------------------------------------------------
// Locating: where a path is in the text. Used only to report errors, so it may
// read the document again.

/// Where an object entry or list item is: the key (or the item) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// The key's span (for a list item, the item's).
    pub(crate) key: Range<usize>,
    /// The value's span (for YAML and TOML containers, possibly only its start).
    pub(crate) value: Range<usize>,
}

/// One step of a path into a document: a key of an object, or an item of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// The value under this key (its first occurrence).
    Key(&'a str),
    /// The item at this (0-based) position.
    Item(usize),
}

/// Where `path` sits in `text`, a document in `format`: the one-based line and
/// column (in characters) of the key, or of the list item; `None` when the text does
/// not parse or has no such path. For pointing at a place in a document already
/// read, such as one case of a test file (`[Step::Key("cases"), Step::Item(2)]`).
pub fn position(text: &str, format: Format, path: &[Step<'_>]) -> Option<(usize, usize)> {
    let path: Vec<Seg> = path
        .iter()
        .map(|step| match step {
            Step::Key(k) => Seg::Key((*k).to_owned(), 0),
            Step::Item(i) => Seg::Index(*i),
        })
        .collect();
    let found = locate(text, format, &path)?;
    Some(crate::line_index::line_col(text, found.key.start))
}

/// Finds `path` in `text`; `None` if the text does not parse or has no such path.
pub(crate) fn locate(text: &str, format: Format, path: &[Seg]) -> Option<Located> {
    let mut found = locate_all(text, format, &[path.to_vec()]);
    found.pop().flatten()
}

/// Finds several paths in one reading of the text, in the order asked.
pub(crate) fn locate_all(text: &str, format: Format, paths: &[Vec<Seg>]) -> Vec<Option<Located>> {
    let tree = match format {
        Format::Json => json_tree(text),
        Format::Yaml => yaml_tree(text),
        Format::Toml => toml_tree(text),
    };
    paths
        .iter()
        .map(|p| tree.as_ref().and_then(|t| t.find(p)))
        .map(|l| {
            l.map(|l| Located {
                key: clamp_span(text, l.key),
                value: clamp_span(text, l.value),
            })
        })
        .collect()
}

/// A document's shape with spans, and nothing else.
#[derive(Debug)]
struct LNode {
    span: Range<usize>,
    kind: LKind,
}

#[derive(Debug)]
enum LKind {
    Scalar,
    List(Vec<LNode>),
    Map(Vec<(String, Range<usize>, LNode)>),
}

impl LNode {
    fn find(&self, path: &[Seg]) -> Option<Located> {
        let mut node = self;
        let mut here = Located {
            key: self.span.clone(),
            value: self.span.clone(),
        };
        for seg in path {
            match (seg, &node.kind) {
                (Seg::Key(k, nth), LKind::Map(entries)) => {
                    let (_, key, value) =
                        entries.iter().filter(|(name, _, _)| name == k).nth(*nth)?;
                    here = Located {
                        key: key.clone(),
                        value: value.span.clone(),
                    };
                    node = value;
                }
                (Seg::Index(i), LKind::List(items)) => {
                    let item = items.get(*i)?;
                    here = Located {
                        key: item.span.clone(),
                        value: item.span.clone(),
                    };
                    node = item;
                }
                _ => return None,
            }
        }
        Some(here)
    }
}

/// Reads JSON one byte at a time so that the position is known after each value.
struct CountingReader<'a> {
    bytes: &'a [u8],
    pos: &'a Cell<usize>,
}

impl std::io::Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let pos = self.pos.get();
        match (self.bytes.get(pos), buf.first_mut()) {
            (Some(b), Some(slot)) => {
                *slot = *b;
                self.pos.set(pos + 1);
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn json_tree(text: &str) -> Option<LNode> {
    let pos = Cell::new(0);
    let reader = CountingReader {
        bytes: text.as_bytes(),
        pos: &pos,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let seed = JsonLoc {
        text: text.as_bytes(),
        pos: &pos,
        from: 0,
    };
    seed.deserialize(&mut de).ok()
}

#[derive(Clone, Copy)]
struct JsonLoc<'a> {
    text: &'a [u8],
    pos: &'a Cell<usize>,
    /// The position before the parser looked for this value.
    from: usize,
}

impl JsonLoc<'_> {
    /// Skips the separators between where the parser was and a value or key.
    fn start(&self, from: usize) -> usize {
        let mut i = from;
        while let Some(b) = self.text.get(i) {
            if b.is_ascii_whitespace() || *b == b',' || *b == b':' {
                i += 1;
            } else {
                break;
            }
        }
        i
    }

    fn node(&self, kind: LKind) -> LNode {
        let start = self.start(self.from);
        let mut end = self.pos.get().max(start);
        if matches!(kind, LKind::Scalar) {
            // After a number the parser has peeked at the byte that ends it.
            while end > start
                && self
                    .text
                    .get(end - 1)
                    .is_some_and(|b| matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace())
            {
                end -= 1;
            }
        }
        LNode {
            span: start..end,
            kind,
        }
    }

    fn with_from(self, from: usize) -> Self {
        JsonLoc { from, ..self }
    }
}

impl<'de> DeserializeSeed<'de> for JsonLoc<'_> {
    type Value = LNode;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<LNode, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonLoc<'_> {
    type Value = LNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }
    fn visit_unit<E: de::Error>(self) -> Result<LNode, E> {
        Ok(self.node(LKind::Scalar))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LNode, A::Error> {
        let mut items = Vec::new();
        loop {
            let from = self.pos.get();
            match seq.next_element_seed(self.with_from(from))? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(self.node(LKind::List(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LNode, A::Error> {
        let mut entries = Vec::new();
        loop {
            let from = self.pos.get();
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            let key_end = self.pos.get();
            let key_span = self.start(from)..key_end;
            let value = map.next_value_seed(self.with_from(key_end))?;
            entries.push((key, key_span, value));
        }
        Ok(self.node(LKind::Map(entries)))
    }
}

fn yaml_tree(text: &str) -> Option<LNode> {
    let bom = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let body = text.get(bom..)?;
    let options = serde_saphyr::Options {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
        budget: Some(serde_saphyr::Budget {
            max_depth: HARD_MAX_DEPTH,
            ..serde_saphyr::Budget::default()
        }),
        ..serde_saphyr::Options::default()
    };
    let root: serde_saphyr::Spanned<YNode> =
        serde_saphyr::from_str_with_options(body, options).ok()?;
    let chars = CharOffsets::new(body);
    Some(root.value.into_lnode(&chars, bom, yspan(&root.referenced)))
}

/// A YAML node read with saphyr's spans (character based).
#[derive(Debug)]
enum YNode {
    Scalar,
    List(Vec<serde_saphyr::Spanned<YNode>>),
    Map(Vec<(serde_saphyr::Spanned<String>, serde_saphyr::Spanned<YNode>)>),
}

fn yspan(loc: &serde_saphyr::Location) -> Range<usize> {
    let s = loc.span();
    s.offset()..s.offset() + s.len()
}

impl YNode {
    fn into_lnode(self, chars: &CharOffsets<'_>, base: usize, span: Range<usize>) -> LNode {
        let to_bytes = |r: Range<usize>| chars.byte(r.start) + base..chars.byte(r.end) + base;
        let kind = match self {
            YNode::Scalar => LKind::Scalar,
            YNode::List(items) => LKind::List(
                items
                    .into_iter()
                    .map(|i| {
                        let span = yspan(&i.referenced);
                        i.value.into_lnode(chars, base, span)
                    })
                    .collect(),
            ),
            YNode::Map(entries) => LKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let span = yspan(&v.referenced);
                        (
                            k.value,
                            to_bytes(yspan(&k.referenced)),
                            v.value.into_lnode(chars, base, span),
                        )
                    })
                    .collect(),
            ),
        };
        LNode {
            span: to_bytes(span),
            kind,
        }
    }
}

impl<'de> de::Deserialize<'de> for YNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<YNode, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = YNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(YNode::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<YKey>>()? {
                    let value = map.next_value()?;
                    let key = serde_saphyr::Spanned::new(key.value.0, key.referenced, key.defined);
                    entries.push((key, value));
                }
                Ok(YNode::Map(entries))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A YAML key as text, whatever scalar it is.
struct YKey(String);

impl<'de> de::Deserialize<'de> for YKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<YKey, D::Error> {
        let state = State {
            limits: &Limits {
                max_string_len: usize::MAX,
                ..Limits::default()
            },
            failure: Cell::new(None),
            duplicates: RefCell::new(Vec::new()),
        };
        KeySeed { state: &state }
            .deserialize(deserializer)
            .map(YKey)
    }
}

/// Character offsets to byte offsets, for saphyr's character-based spans.
struct CharOffsets<'a> {
    text: &'a str,
    ascii: bool,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            ascii: text.is_ascii(),
        }
    }

    fn byte(&self, chars: usize) -> usize {
        if self.ascii {
            chars.min(self.text.len())
        } else {
            self.text
                .char_indices()
                .nth(chars)
                .map_or(self.text.len(), |(i, _)| i)
        }
    }
}

fn toml_tree(text: &str) -> Option<LNode> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let span = root.span();
    Some(LNode {
        span,
        kind: toml_table(root.get_ref()),
    })
}

fn toml_table(table: &toml::de::DeTable<'_>) -> LKind {
    LKind::Map(
        table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), k.span(), toml_node(v)))
            .collect(),
    )
}

fn toml_node(value: &toml::Spanned<toml::de::DeValue<'_>>) -> LNode {
    use toml::de::DeValue;
    let kind = match value.get_ref() {
        DeValue::Table(t) => toml_table(t),
        DeValue::Array(items) => LKind::List(items.iter().map(toml_node).collect()),
        _ => LKind::Scalar,
    };
    LNode {
        span: value.span(),
        kind,
    }
}

// ---------------------------------------------------------------------------
// Positions.

pub(crate) use crate::line_index::line_col;
use crate::line_index::{floor_char_boundary, offset_of as offset_of_line_col};

/// A span covering the character at `offset` (empty at the end of the text).
fn point(text: &str, offset: usize) -> Range<usize> {
    let start = floor_char_boundary(text, offset);
    let len = text
        .get(start..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    start..start + len
}

fn clamp_span(text: &str, r: Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(text, r.start);
    let end = floor_char_boundary(text, r.end.max(start));
    if end == start {
        point(text, start)
    } else {
        start..end
    }
}

/// serde_json appends " at line L column C"; the span says that already.
fn strip_json_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message),
        None => message,
    };
    lowercase_first(message)
}

fn strip_yaml_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep acronyms such as "EOF" or "YAML" as they are.
        Some(_) if chars.next().is_some_and(char::is_uppercase) => s.to_owned(),
        Some(c) => c.to_lowercase().chain(s.chars().skip(1)).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limit;

    fn err(text: &str, format: Format, limits: &Limits) -> InputError {
        parse_value(text, format, limits).unwrap_err()
    }

    /// `position` finds a list item's line in each format, and says `None` for a
    /// path that is not there.
    #[test]
    fn position_points_at_list_items() {
        let path = [Step::Key("cases"), Step::Item(1)];
        let yaml = "policy: p.gate\ncases:\n  - name: a\n    at: x\n  - name: b\n    at: y\n";
        assert_eq!(position(yaml, Format::Yaml, &path), Some((5, 5)));
        let json = "{\"cases\": [\n  {\"name\": \"a\"},\n  {\"name\": \"b\"}\n]}";
        assert_eq!(position(json, Format::Json, &path), Some((3, 3)));
        let toml = "policy = \"p.gate\"\n\n[[cases]]\nname = \"a\"\n\n[[cases]]\nname = \"b\"\n";
        let (line, _) = position(toml, Format::Toml, &path).unwrap();
        assert!((6..=7).contains(&line), "toml item at line {line}");
        assert_eq!(
            position(yaml, Format::Yaml, &[Step::Key("cases"), Step::Item(2)]),
            None
        );
        assert_eq!(position("{", Format::Json, &path), None);
    }

    /// Each problem is its variant, with its details, its code and, for a limit,
    /// which limit; the message is the variant's text.
    #[test]
    fn problems_are_typed() {
        let tight = Limits {
            max_input_bytes: 64,
            max_depth: 2,
            max_string_len: 5,
            max_list_len: 2,
            ..Limits::default()
        };
        let cases: [(&str, Format, &Limits, InputProblem, Option<Limit>); 7] = [
            (
                "[[[1]]]",
                Format::Json,
                &tight,
                InputProblem::TooDeep { limit: 2 },
                Some(Limit::Depth),
            ),
            (
                r#"["abcdef"]"#,
                Format::Json,
                &tight,
                InputProblem::StringTooLong { len: 6, limit: 5 },
                Some(Limit::StringLen),
            ),
            (
                "[1, 2, 3]",
                Format::Json,
                &tight,
                InputProblem::ListTooLong { limit: 2 },
                Some(Limit::ListLen),
            ),
            (
                &"1".repeat(65),
                Format::Json,
                &tight,
                InputProblem::TooLarge {
                    name: "<input>".into(),
                    size: Some(65),
                    limit: 64,
                },
                Some(Limit::InputBytes),
            ),
            (
                r#"{"a": 1, "a": 2}"#,
                Format::Json,
                &tight,
                InputProblem::DuplicateKey { key: "a".into() },
                None,
            ),
            (
                "a: 1\n---\nb: 2\n",
                Format::Yaml,
                &tight,
                InputProblem::MultipleDocuments,
                None,
            ),
            (
                "? [a, b]\n: 1\n",
                Format::Yaml,
                &tight,
                InputProblem::Unsupported {
                    message: "an object key must be a string, not a list or an object".into(),
                },
                None,
            ),
        ];
        for (text, format, limits, problem, limit) in cases {
            let e = err(text, format, limits);
            assert_eq!(e.problem(), &problem, "{text}");
            assert_eq!(e.kind(), problem.kind());
            assert_eq!(e.limit(), limit, "{text}");
            assert_eq!(e.message(), problem.to_string());
            let code = Diagnostic::code(&e).map(|c| c.to_string());
            assert_eq!(code.as_deref(), Some("changegate::input"));
        }
        let e = err(r#"{"a": 1,}"#, Format::Json, &Limits::default());
        assert!(
            matches!(e.problem(), InputProblem::Syntax { message } if message.starts_with("invalid JSON"))
        );
    }
}
