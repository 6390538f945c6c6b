//! Where templates are parsed and rendered: a thread of its own with a known, generous stack.
//!
//! A stack overflow is not a panic: Rust aborts the whole process (every store's web and
//! worker). The nesting limits (`limits.rs`) keep what MiniJinja may recurse on far below any
//! stack (the largest template they allow renders on 1/32 of this one); this thread is the
//! second line, for a construct they miss. Its stack holds a source of the maximum size
//! (`MAX_SOURCE_BYTES`) checked by nothing else: the worst shape, 16 K unary `-`, needs
//! ~6.0 MiB in a release build and ~4.3 MiB in a debug one (measured by bisecting the stack
//! size; 7,600 of them overflow a 2 MiB tokio worker). 16 MiB leaves 2.6× over that worst
//! case. Callers' threads vary; this one does not. A panic inside MiniJinja ends only this
//! thread and becomes an error.
//!
//! Cost: one thread spawn per render (`cargo bench -p domain --bench templates`,
//! `guarded_thread`: ~0.1 ms on the loaded 2-vCPU VM, a third of a default quote's render).
//! The stack is reserved address space; only the pages a render touches are committed.

use super::TemplateError;

/// Stack of the template thread.
pub const STACK_BYTES: usize = 16 * 1024 * 1024;

/// Runs `work` (parse + render of one template) on a fresh thread with `STACK_BYTES` of stack
/// and waits for it.
pub(super) fn run<T: Send>(
    work: impl FnOnce() -> Result<T, TemplateError> + Send,
) -> Result<T, TemplateError> {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("modelo".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, work);
        match spawned {
            // Joined here, so a panic is returned as `Err` instead of re-raised by the scope.
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(TemplateError {
                    line: None,
                    message: "erro interno ao montar a mensagem com este modelo".into(),
                })
            }),
            Err(_) => Err(TemplateError {
                line: None,
                message: "servidor sem recursos para montar a mensagem agora; tente de novo".into(),
            }),
        }
    })
}
