//! Who gets one of the endpoint's handlers when they run short: the rule of
//! [`Slots::admit`], kept apart from the sockets (a slot holds any handle that can shut its
//! connection down) so that it can be tested case by case.

use std::net::TcpStream;

use crate::fsutil;
use crate::peer::{self, Owner};

/// Requests handled at once; beyond that, a new connection takes the slot of another (see
/// [`Slots::admit`]).
const MAX_CONNECTIONS: usize = 128;
/// Handler threads at most, counting those of connections given up and still ending.
const MAX_THREADS: usize = 2 * MAX_CONNECTIONS;
/// Handler threads at most for other users' connections: enough for all the slots and for
/// those given up still ending, leaving ours a quarter whatever theirs do. (Only a holder of
/// the token keeps a thread for long: without it a handler ends within a second.)
const MAX_OTHERS_THREADS: usize = MAX_THREADS - MAX_CONNECTIONS / 2;

/// Who is at the other end of a connection, as far as priority goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Peer {
    /// The user running `exec`, or someone the kernel cannot name.
    Ours,
    /// Another user, by uid.
    Other(u32),
}

impl Peer {
    /// Who owns the other end of `stream`: ours when it is our uid or the kernel cannot say;
    /// `None` when that end is already gone, with no one to answer.
    pub(super) fn of(stream: &TcpStream) -> Option<Self> {
        match peer::owner(stream) {
            Owner::Uid(uid) if uid == fsutil::my_uid() => Some(Self::Ours),
            Owner::Uid(uid) => Some(Self::Other(uid)),
            Owner::Unknown => Some(Self::Ours),
            Owner::Gone => None,
        }
    }

    fn is_ours(self) -> bool {
        self == Self::Ours
    }
}

/// A connection holding a handler slot; `handle` is what shuts it down to free the slot.
pub(super) struct Held<S> {
    id: usize,
    pub(super) peer: Peer,
    /// Its request head has been read: it is being answered.
    answering: bool,
    pub(super) handle: S,
}

/// What [`Slots::admit`] decided for a new connection.
pub(super) enum Admission<S> {
    /// A slot was free.
    Free,
    /// It took the slot of this connection, which is to be shut down unanswered.
    Displacing(Held<S>),
    /// No slot or thread for it: it is to be closed unanswered.
    Refused,
}

/// The connections holding the [`MAX_CONNECTIONS`] handler slots, and the handler threads
/// running, ours and other users', counting those of connections given up and still ending.
pub(super) struct Slots<S> {
    /// Oldest first, by accept number.
    held: Vec<Held<S>>,
    ours_threads: usize,
    others_threads: usize,
}

impl<S> Default for Slots<S> {
    fn default() -> Self {
        Self {
            held: Vec::new(),
            ours_threads: 0,
            others_threads: 0,
        }
    }
}

impl<S> Slots<S> {
    /// Gives connection `id` of `peer` a slot and a thread, when [`Self::thread_for`] allows
    /// one: a free slot, else that of [`Self::victim_for`].
    pub(super) fn admit(&mut self, id: usize, peer: Peer, handle: S) -> Admission<S> {
        if !self.thread_for(peer) {
            return Admission::Refused;
        }
        let admission = if self.held.len() < MAX_CONNECTIONS {
            Admission::Free
        } else if let Some(at) = self.victim_for(peer) {
            Admission::Displacing(self.held.remove(at))
        } else {
            return Admission::Refused;
        };
        self.held.push(Held {
            id,
            peer,
            answering: false,
            handle,
        });
        *self.threads_of(peer) += 1;
        admission
    }

    /// Whether one more handler thread may start for `peer`: fewer than [`MAX_THREADS`] in
    /// all, and for another user fewer than [`MAX_OTHERS_THREADS`] of theirs.
    fn thread_for(&self, peer: Peer) -> bool {
        self.ours_threads + self.others_threads < MAX_THREADS
            && (peer.is_ours() || self.others_threads < MAX_OTHERS_THREADS)
    }

    /// Whose slot a new connection of `peer` takes when none is free: another user's that has
    /// waited longest for its request head, else (for ours) another user's being answered,
    /// else our own that has waited longest. Another user's never takes one of ours.
    fn victim_for(&self, peer: Peer) -> Option<usize> {
        // (ours, answering), in the order they give way.
        let order: &[(bool, bool)] = if peer.is_ours() {
            &[(false, false), (false, true), (true, false)]
        } else {
            &[(false, false)]
        };
        order.iter().find_map(|&(ours, answering)| {
            self.held
                .iter()
                .position(|h| h.peer.is_ours() == ours && h.answering == answering)
        })
    }

    /// Connection `id` has sent its request head.
    pub(super) fn answering(&mut self, id: usize) {
        if let Some(held) = self.held.iter_mut().find(|h| h.id == id) {
            held.answering = true;
        }
    }

    /// The handler of connection `id` of `peer` has ended: its slot (if it still held one)
    /// and its thread are free.
    pub(super) fn release(&mut self, id: usize, peer: Peer) {
        self.held.retain(|h| h.id != id);
        *self.threads_of(peer) -= 1;
    }

    fn threads_of(&mut self, peer: Peer) -> &mut usize {
        match peer {
            Peer::Ours => &mut self.ours_threads,
            Peer::Other(_) => &mut self.others_threads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots held by groups of connections (oldest group first, ids from 0 in that order),
    /// each `(peer, answering, count)`, with one thread per connection.
    fn slots_held(groups: &[(Peer, bool, usize)]) -> Slots<()> {
        let mut slots = Slots::default();
        for &(peer, answering, count) in groups {
            for _ in 0..count {
                let id = slots.held.len();
                slots.held.push(Held {
                    id,
                    peer,
                    answering,
                    handle: (),
                });
                *slots.threads_of(peer) += 1;
            }
        }
        slots
    }

    /// What a new connection of `peer` gets: `Ok(None)` a free slot, `Ok(Some(id))` the slot of
    /// connection `id`, `Err(())` none.
    fn admitted(mut slots: Slots<()>, peer: Peer) -> Result<Option<usize>, ()> {
        match slots.admit(usize::MAX, peer, ()) {
            Admission::Free => Ok(None),
            Admission::Displacing(held) => Ok(Some(held.id)),
            Admission::Refused => Err(()),
        }
    }

    /// One row per state of the slots: what a new connection of ours, and one of another user,
    /// gets. Ours is refused only when our own connections fill every slot or thread; another
    /// user's never takes the slot of one of ours.
    #[test]
    fn our_connections_go_first_and_others_are_served_while_there_is_room() {
        const OURS: Peer = Peer::Ours;
        const OTHER: Peer = Peer::Other(1000);
        const WAITING: bool = false;
        const ANSWERING: bool = true;
        #[allow(clippy::type_complexity)]
        let cases: &[(
            &str,
            &[(Peer, bool, usize)],
            Result<Option<usize>, ()>,
            Result<Option<usize>, ()>,
        )] = &[
            ("empty", &[], Ok(None), Ok(None)),
            (
                "slots free, whoever holds them",
                &[(OTHER, WAITING, 100), (OURS, ANSWERING, 27)],
                Ok(None),
                Ok(None),
            ),
            (
                "full of ours waiting: ours takes the oldest, another user's is refused",
                &[(OURS, WAITING, 128)],
                Ok(Some(0)),
                Err(()),
            ),
            (
                "another user's waiting connection gives way before an older one of ours",
                &[
                    (OURS, WAITING, 1),
                    (OTHER, ANSWERING, 126),
                    (OTHER, WAITING, 1),
                ],
                Ok(Some(127)),
                Ok(Some(127)),
            ),
            (
                "the other user's that has waited longest",
                &[(OTHER, ANSWERING, 10), (OTHER, WAITING, 118)],
                Ok(Some(10)),
                Ok(Some(10)),
            ),
            (
                "another user's being answered gives way to ours, before ours waiting",
                &[
                    (OURS, WAITING, 1),
                    (OURS, ANSWERING, 100),
                    (OTHER, ANSWERING, 27),
                ],
                Ok(Some(101)),
                Err(()),
            ),
            (
                "full of ours being answered",
                &[(OURS, ANSWERING, 128)],
                Err(()),
                Err(()),
            ),
        ];
        for (case, groups, ours, other) in cases {
            assert_eq!(admitted(slots_held(groups), OURS), *ours, "ours: {case}");
            assert_eq!(admitted(slots_held(groups), OTHER), *other, "other: {case}");
        }
        // Threads of connections given up and still ending count: other users' at their cap
        // leave ours a thread, and at MAX_THREADS in all nothing starts.
        let ending = || {
            let mut slots = slots_held(&[(OTHER, ANSWERING, 128)]);
            slots.others_threads = MAX_OTHERS_THREADS;
            slots
        };
        assert_eq!(admitted(ending(), OURS), Ok(Some(0)));
        assert_eq!(admitted(ending(), OTHER), Err(()));
        let mut full = ending();
        full.ours_threads = MAX_THREADS - MAX_OTHERS_THREADS;
        assert_eq!(admitted(full, OURS), Err(()));
    }

    /// A connection's slot and thread are freed when its handler ends, whether or not it was
    /// displaced meanwhile.
    #[test]
    fn ending_handlers_free_their_slot_and_thread() {
        let mut slots = slots_held(&[(Peer::Other(7), false, 128)]);
        let Admission::Displacing(gone) = slots.admit(500, Peer::Ours, ()) else {
            panic!("ours was not admitted");
        };
        assert_eq!((gone.id, slots.held.len()), (0, 128));
        assert_eq!((slots.ours_threads, slots.others_threads), (1, 128));
        slots.release(0, Peer::Other(7));
        slots.answering(500);
        slots.release(500, Peer::Ours);
        assert_eq!(slots.held.len(), 127);
        assert_eq!((slots.ours_threads, slots.others_threads), (0, 127));
    }
}
