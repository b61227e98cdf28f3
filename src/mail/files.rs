//! The file outbox: each mail a `.eml` file in one directory, when no SMTP server is set.
//!
//! The files hold working links (a reset link sets a password), so the directory is the
//! server user's alone (0700, tightened when found wider) and each file is 0600. Nothing
//! is written through a link someone planted: every file is created new (`O_EXCL`) with
//! `O_NOFOLLOW`, and put in place with a hard link, which fails on any existing name.
//!
//! Names carry the row id, the user id and the row's creation time:
//! `00000012-user3-1764000000.eml`. The user id lets a deleted account's files go with it;
//! the time keeps a mail from a new database (whose ids start again) off an old file's name.

use std::{
    fs::{DirBuilder, OpenOptions, Permissions},
    io::{self, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

/// The mode of the outbox directory: the server user's alone.
const DIR_MODE: u32 = 0o700;
/// The mode of each mail file.
const FILE_MODE: u32 = 0o600;

/// The file name of outbox row `id`, for `user_id` (none: a mail to no account), queued at
/// `created_at`.
pub fn file_name(id: i64, user_id: Option<i64>, created_at: i64) -> String {
    match user_id {
        Some(user) => format!("{id:08}-user{user}-{created_at}.eml"),
        None => format!("{id:08}-{created_at}.eml"),
    }
}

/// Whether `name` (a mail file or one being written) belongs to `user_id`.
fn belongs_to(name: &str, user_id: i64) -> bool {
    let name = name.strip_prefix('.').unwrap_or(name);
    name.split('-').nth(1) == Some(&format!("user{user_id}"))
        && (name.ends_with(".eml") || name.ends_with(".part"))
}

/// Creates `dir` (0700) if missing; if it is there with wider permissions, tightens them to
/// 0700. Fails when it is not a directory or not ours to change (`chmod` needs the owner):
/// another user's directory is no place for our links.
pub fn prepare_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))?;
        tracing::warn!(
            dir = %dir.display(),
            was = format!("{:o}", meta.permissions().mode() & 0o7777),
            "the mail outbox directory was open to others; it is now 0700"
        );
    }
    Ok(())
}

/// Creates `path` as a new file (0600), refusing any existing name: a file, or a symlink
/// whether or not it points anywhere.
fn create_new(path: &Path) -> io::Result<std::fs::File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Writes `<dir>/<name>` whole or not at all: into a new `.part` file of a random name,
/// then hard-linked to `name` (which must not exist yet), then the `.part` name removed.
/// Blocking: call it off the async threads.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    prepare_dir(dir)?;
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.{}.part", crate::security::random_hex(8)));
    let written = create_new(&partial).and_then(|mut file| file.write_all(bytes));
    let placed = written.and_then(|()| std::fs::hard_link(&partial, &path));
    // Unlinking a name never follows a link: whatever happened, only our own name goes.
    let _ = std::fs::remove_file(&partial);
    placed.map(|()| path)
}

/// Removes every mail file of `user_id` from `dir` (a deleted account's); how many.
/// Blocking: call it off the async threads. A missing directory holds none.
pub fn remove_for_user(dir: &Path, user_id: i64) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        other => other?,
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(|name| belongs_to(name, user_id)) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn the_directory_is_0700_and_each_file_0600() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data/outbox");
        let path = write(&dir, &file_name(1, Some(7), 100), b"mail").unwrap();
        assert_eq!(path, dir.join("00000001-user7-100.eml"));
        assert_eq!((mode(&dir), mode(&path)), (0o700, 0o600));
        assert_eq!(std::fs::read(&path).unwrap(), b"mail");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no .part left behind: {names:?}");
    }

    #[test]
    fn a_directory_open_to_others_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("outbox");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        write(&dir, &file_name(1, Some(1), 1), b"mail").unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn nothing_is_written_through_a_planted_symlink() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("outbox");
        prepare_dir(&dir).unwrap();
        let target = root.path().join("target");
        std::fs::write(&target, b"original").unwrap();
        let name = file_name(2, Some(1), 5);
        std::os::unix::fs::symlink(&target, dir.join(&name)).unwrap();
        std::os::unix::fs::symlink(root.path().join("nowhere"), dir.join("dangling")).unwrap();
        assert!(write(&dir, &name, b"mail").is_err());
        assert!(create_new(&dir.join("dangling")).is_err());
        assert!(create_new(&dir.join(&name)).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"original");
        assert!(!root.path().join("nowhere").exists());
        // The link is left as it was, and no .part remains.
        assert!(std::fs::symlink_metadata(dir.join(&name)).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    }

    #[test]
    fn an_existing_mail_file_is_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let name = file_name(3, Some(1), 5);
        write(root.path(), &name, b"first").unwrap();
        assert_eq!(write(root.path(), &name, b"second").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(root.path().join(&name)).unwrap(), b"first");
    }

    #[test]
    fn a_users_files_are_removed_and_no_one_elses() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        for (id, user) in [(1, Some(1)), (2, Some(12)), (3, Some(1)), (4, None), (5, Some(21))] {
            write(dir, &file_name(id, user, 9), b"mail").unwrap();
        }
        std::fs::write(dir.join(".00000006-user1-9.eml.0123abcd.part"), b"half").unwrap();
        std::fs::write(dir.join("notes-user1-.txt"), b"not a mail").unwrap();
        assert_eq!(remove_for_user(dir, 1).unwrap(), 3);
        let mut left: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            ["00000002-user12-9.eml", "00000004-9.eml", "00000005-user21-9.eml", "notes-user1-.txt"]
        );
        assert_eq!(remove_for_user(&dir.join("missing"), 1).unwrap(), 0);
    }
}
