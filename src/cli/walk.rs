//! Finding the files a command works on: named files as given, folders searched
//! recursively with the `ignore` crate, so `.gitignore` (and `.ignore`) rules hold,
//! hidden entries and `target` folders are skipped, and a symbolic link that leads
//! back into a folder being searched is reported once instead of walked forever.

use std::path::PathBuf;

/// Files named by `paths` (those ending in `suffix`, or any file named explicitly
/// when `suffix` is `.gate`; `-` is kept as standard input), folders searched for
/// files ending in `suffix`, in a stable order. A symlink loop or an unreadable entry
/// is reported on stderr and skipped.
pub(super) fn collect_files(paths: &[PathBuf], suffix: &str) -> Vec<PathBuf> {
    let defaults = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            if p.as_os_str() == "-" || suffix == ".gate" || p.to_string_lossy().ends_with(suffix) {
                out.push(p.clone());
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(p)
            .follow_links(true)
            .hidden(true)
            .parents(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            // `.gitignore` counts in a policy folder that is not (yet) a git checkout.
            .require_git(false)
            .sort_by_file_name(std::cmp::Ord::cmp)
            .filter_entry(|e| e.file_name() != "target" || e.depth() == 0)
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    if is_file && e.file_name().to_string_lossy().ends_with(suffix) {
                        out.push(e.into_path());
                    }
                }
                Err(e) => eprintln!("warning: skipping {e}"),
            }
        }
    }
    out
}
