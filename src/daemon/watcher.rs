//! Watching the export (SPEC §8, `[schedule] watch`): inotify on the folder that holds the
//! export's file, or its glob's files, so that a change starts a pass once the file has
//! settled instead of at the next tick. The folder is watched rather than the file, so that a
//! file replaced by rename (as export jobs write atomically), created, or new in a glob is
//! seen. The cron schedule stays the safety net for what inotify does not hear (a network
//! mount written from another machine).

use std::path::{Path, PathBuf};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// A watch on the export's folder; dropped, it stops.
pub struct Watch {
    _watcher: RecommendedWatcher,
    folder: PathBuf,
}

/// Which paths of the folder are the export.
#[derive(Debug, Clone)]
enum Wanted {
    File(PathBuf),
    Glob(glob::Pattern),
}

impl Wanted {
    fn matches(&self, path: &Path) -> bool {
        match self {
            Wanted::File(file) => path == file,
            Wanted::Glob(pattern) => pattern.matches_path(path),
        }
    }
}

/// The folder to watch for `export` (a file or a glob), whether to watch below it, and which
/// of its paths count.
fn target(export: &Path) -> Option<(PathBuf, RecursiveMode, Wanted)> {
    let text = export.to_string_lossy();
    if !text.contains(['*', '?', '[']) {
        let folder = export.parent()?.to_owned();
        return Some((
            folder,
            RecursiveMode::NonRecursive,
            Wanted::File(export.to_owned()),
        ));
    }
    let pattern = glob::Pattern::new(&text).ok()?;
    // The folders before the first one with a wildcard are fixed: watch the last of them, and
    // below it when the wildcards reach into folders.
    let mut folder = PathBuf::new();
    let mut components = export.components().peekable();
    while let Some(part) = components.next() {
        if part.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            let below = components.peek().is_some();
            let mode = match below {
                true => RecursiveMode::Recursive,
                false => RecursiveMode::NonRecursive,
            };
            return Some((folder, mode, Wanted::Glob(pattern)));
        }
        folder.push(part);
    }
    None
}

impl Watch {
    /// Watches the folder of `export`; each change to the export sends on `changes` (a full
    /// channel already says "changed"). An error says why the folder cannot be watched:
    /// passes then run on the schedule alone.
    pub fn start(export: &Path, changes: mpsc::Sender<()>) -> Result<Watch, String> {
        let (folder, mode, wanted) =
            target(export).ok_or("cannot tell which folder holds the export")?;
        if !folder.is_dir() {
            return Err(format!(
                "the export's folder {} does not exist (yet)",
                folder.display()
            ));
        }
        let handler = move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                let relevant = matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                ) && event.paths.iter().any(|p| wanted.matches(p));
                if relevant {
                    debug!(paths = ?event.paths, "export changed");
                    let _ = changes.try_send(());
                }
            }
            Err(e) => warn!("watching the export: {e}"),
        };
        let watcher = notify::recommended_watcher(handler)
            .and_then(|mut w| w.watch(&folder, mode).map(|()| w))
            .map_err(|e| format!("cannot watch the export's folder {}: {e}", folder.display()))?;
        info!(folder = %folder.display(), "watching the export's folder: a change starts a pass once the file has settled");
        Ok(Watch {
            _watcher: watcher,
            folder,
        })
    }

    /// Whether the watched folder is still there (a folder removed takes its watch with it).
    pub fn alive(&self) -> bool {
        self.folder.is_dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_watched_for_a_file_or_a_glob() {
        let (folder, mode, wanted) = target(Path::new("/srv/exports/customers.csv")).expect("file");
        assert_eq!(folder, Path::new("/srv/exports"));
        assert_eq!(mode, RecursiveMode::NonRecursive);
        assert!(wanted.matches(Path::new("/srv/exports/customers.csv")));
        assert!(!wanted.matches(Path::new("/srv/exports/.customers.csv.tmp")));

        let (folder, mode, wanted) =
            target(Path::new("/srv/exports/customers-*.csv")).expect("glob");
        assert_eq!(folder, Path::new("/srv/exports"));
        assert_eq!(mode, RecursiveMode::NonRecursive);
        assert!(wanted.matches(Path::new("/srv/exports/customers-2024.csv")));
        assert!(!wanted.matches(Path::new("/srv/exports/vendors.csv")));

        let (folder, mode, _) = target(Path::new("/srv/exports/*/customers.csv")).expect("deep");
        assert_eq!(folder, Path::new("/srv/exports"));
        assert_eq!(mode, RecursiveMode::Recursive);
    }
}
