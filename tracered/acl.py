"""ACL users and permissions: the mirror of acl.c (and the ACL / AUTH parts of server.c).

Redis keeps a table of users (``Users``, a rax sorted by name).  Every connection is bound to
one user, ``default`` until AUTH / HELLO AUTH says otherwise.  A user has flags (on/off,
nopass), SHA-256 password hashes, and a *root selector*: the commands it may run (a bitmap
indexed by command id, plus "first-arg" exceptions), the key patterns it may touch (each
with read/write permission) and the Pub/Sub channel patterns it may use.  processCommand
asks ACLCheckAllPerm before running anything; a refusal is logged in the ACL LOG and answered
with -NOPERM.

Layout (same order as acl.c):
  helpers        acl_hash_password, acl_check_password_hash, acl_string_has_spaces
  selectors      AclSelector, acl_set_selector, acl_change_selector_perm, category logic
  describe       acl_describe_selector_command_rules (the best-fit category trick),
                 acl_describe_selector, acl_describe_user
  users          User, acl_create_user, acl_set_user, acl_string_set_user, acl_init
  auth           acl_check_user_credentials, acl_authenticate_user, acl_update_default_user_password
  checks         acl_check_all_user_command_perm, acl_user_check_key_perm,
                 acl_user_check_channel_perm, acl_user_check_cmd_with_unrestricted_key_access
  log            AclLogEntry, add_acl_log_entry
  commands       ACL SETUSER/GETUSER/DELUSER/USERS/LIST/WHOAMI/CAT/GENPASS/LOG/DRYRUN/HELP

processCommand calls the check only while some user is restricted (``_users_changed`` sets
``server.acl_check_all_perm`` to None otherwise), so a server with just the default user pays
nothing per command.  Selectors (7.0 ``(...)`` rules, ``clearselectors``) are supported.

Divergence: clients hold their user by *name* (``Client.user`` is a str, as before this
module existed) and each check looks the name up in ``Users``.  Deleting a user disconnects
its clients (as in Redis), so a name never outlives the user it meant.
Divergence: a selector's command bitmap is a Python set of RedisCommand rows instead of a
bitmap indexed by command id; the reserved "future commands" bit is the ``future`` field.
Divergence: the single-command part of ACL LIST / GETUSER "commands" and ACL CAT <category>
follow tracered's command-table order; Redis walks a dict with a random hash seed, so its own
order changes from run to run.
Divergence: ACL LOAD / ACL SAVE (aclfile) are not implemented; ``user`` lines in redis.conf
are applied at startup and CONFIG REWRITE writes every user back, as Redis does without an
aclfile.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from tracered import networking as net
from tracered import shared
from tracered.commands import ACL_CATEGORIES, CMD_MODULE, CMD_NO_AUTH, cmd, commands, sub
from tracered.server import server

# User flags (server.h USER_FLAG_*), in the order ACLDescribeUser emits them.
USER_FLAG_ENABLED = 1 << 0
USER_FLAG_DISABLED = 1 << 1
USER_FLAG_NOPASS = 1 << 2
USER_FLAG_SANITIZE_PAYLOAD = 1 << 3
USER_FLAG_SANITIZE_PAYLOAD_SKIP = 1 << 4
ACL_USER_FLAGS = [("on", USER_FLAG_ENABLED), ("off", USER_FLAG_DISABLED),
                  ("nopass", USER_FLAG_NOPASS),
                  ("skip-sanitize-payload", USER_FLAG_SANITIZE_PAYLOAD_SKIP),
                  ("sanitize-payload", USER_FLAG_SANITIZE_PAYLOAD)]

# Selector flags (SELECTOR_FLAG_*).
SELECTOR_FLAG_ROOT = 1 << 0
SELECTOR_FLAG_ALLKEYS = 1 << 1
SELECTOR_FLAG_ALLCOMMANDS = 1 << 2
SELECTOR_FLAG_ALLCHANNELS = 1 << 3
_UNRESTRICTED = SELECTOR_FLAG_ALLKEYS | SELECTOR_FLAG_ALLCOMMANDS | SELECTOR_FLAG_ALLCHANNELS

# Key pattern permissions (ACL_*_PERMISSION).
ACL_READ_PERMISSION = 1 << 0
ACL_WRITE_PERMISSION = 1 << 1
ACL_ALL_PERMISSION = ACL_READ_PERMISSION | ACL_WRITE_PERMISSION

# Check results (ACL_OK, ACL_DENIED_*): a larger value is the "more relevant" error.
ACL_OK = 0
ACL_DENIED_CMD = 1
ACL_DENIED_KEY = 2
ACL_DENIED_AUTH = 3
ACL_DENIED_CHANNEL = 4

ACL_LOG_CTX_TOPLEVEL = 0
ACL_LOG_CTX_LUA = 1
ACL_LOG_CTX_MULTI = 2
ACL_LOG_CTX_MODULE = 3
ACL_LOG_GROUPING_MAX_TIME_DELTA = 60000

HASH_PASSWORD_LEN = 64
GENPASS_MAX_BITS = 4096

# Error kinds of ACLSetUser (Redis sets errno; the text is ACLSetUserStringError's).
_E_NOENT = "Unknown command or category name in ACL"
_E_INVAL = "Syntax error"
_E_EXIST = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
            "does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
_E_ISDIR = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
            "does not have any effect. Try 'resetchannels' to start with an empty list of "
            "channels")
_E_NODEV = "The password you are trying to remove from the user does not exist"
_E_BADMSG = ("The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters")
_E_CHILD = "Allowing first-arg of a subcommand is not supported"


def _pubsub_default_all() -> bool:
    """acl-pubsub-default: do new users start with allchannels?"""
    v = server.acl_pubsub_default
    return v == "allchannels" or v == 1


class AclSetError(Exception):
    """ACLSetUser/ACLSetSelector failing: ``args[0]`` is the ACLSetUserStringError text."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def acl_hash_password(cleartext: bytes) -> str:
    """ACLHashPassword: the lower-case hex SHA-256 that is all Redis ever stores."""
    return hashlib.sha256(cleartext).hexdigest()


def acl_check_password_hash(h: bytes) -> bool:
    """ACLCheckPasswordHash: exactly 64 lower-case hex digits."""
    return len(h) == HASH_PASSWORD_LEN and all(c in b"0123456789abcdef" for c in h)


def acl_string_has_spaces(s: bytes) -> bool:
    """ACLStringHasSpaces: patterns and names must survive a round trip through ACL LIST."""
    return any(c in b" \t\n\r\v\f\x00" for c in s)


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _all_commands(table=None):
    """Every row of the original command table, each container followed by its
    subcommands (the walk ACL CAT and the describe functions do)."""
    for c in (commands.values() if table is None else table):
        if c.flags & CMD_MODULE:
            continue
        yield c
        if c.subcommands:
            yield from _all_commands(c.subcommands.values())


_cat_members: dict[str, list] = {}
_known_commands: set = set()


def acl_sync_command_table() -> None:
    """Rows added to the table after users were set (other modules' init) get the bit the
    reserved "future commands" bit promises, as a module command does in Redis."""
    rows = set(_all_commands())
    new = rows - _known_commands
    if not new:
        return
    _known_commands.update(new)
    _cat_members.clear()
    for u in users.values():
        for s in u.selectors:
            if s.future:
                s.allowed |= new
        u.acl_string = None


def _category_members(cat: str) -> list:
    """The rows (subcommands included) flagged with ``cat``; cached per command table."""
    got = _cat_members.get(cat)
    if got is None:
        got = [c for c in _all_commands() if cat in c.acl_categories]
        _cat_members[cat] = got
    return got


def acl_lookup_command(name: bytes):
    """ACLLookupCommand: 'get' or 'config|get' in the original (not renamed) table."""
    parts = name.lower().split(b"|")
    base = commands.get(parts[0])
    if base is None or len(parts) > 2:
        return None
    if len(parts) == 1:
        return base
    if not base.subcommands:
        return None
    return base.subcommands.get(parts[1])


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------

class KeyPattern:
    """keyPattern: a glob plus the permissions (read, write or both) it grants."""

    __slots__ = ("pattern", "flags")

    def __init__(self, pattern: bytes, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    def describe(self) -> bytes:
        """sdsCatPatternString."""
        prefix = {ACL_ALL_PERMISSION: b"~", ACL_READ_PERMISSION: b"%R~",
                  ACL_WRITE_PERMISSION: b"%W~"}[self.flags]
        return prefix + self.pattern


class AclSelector:
    """aclSelector: commands, key patterns and channel patterns a user may use."""

    __slots__ = ("flags", "allowed", "future", "firstargs", "patterns", "channels")

    def __init__(self, flags: int = 0) -> None:
        self.flags = flags | (SELECTOR_FLAG_ALLCHANNELS if _pubsub_default_all() else 0)
        self.allowed: set = set()     # RedisCommand rows (the allowed_commands bitmap)
        self.future = False           # the reserved bit: +@all also allows future commands
        self.firstargs: dict = {}     # row -> [first-arg bytes] (allowed_firstargs)
        self.patterns: list[KeyPattern] = []
        self.channels: list[bytes] = []

    def copy(self) -> AclSelector:
        """ACLCopySelector."""
        dst = AclSelector.__new__(AclSelector)
        dst.flags = self.flags
        dst.allowed = set(self.allowed)
        dst.future = self.future
        dst.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        dst.patterns = [KeyPattern(p.pattern, p.flags) for p in self.patterns]
        dst.channels = list(self.channels)
        return dst


def acl_set_selector_command_bit(s: AclSelector, c, value: bool) -> None:
    """ACLSetSelectorCommandBit: clearing any bit also drops the ALLCOMMANDS shortcut."""
    if value:
        s.allowed.add(c)
    else:
        s.allowed.discard(c)
        s.flags &= ~SELECTOR_FLAG_ALLCOMMANDS


def acl_change_selector_perm(s: AclSelector, c, allow: bool) -> None:
    """ACLChangeSelectorPerm: a container's rule also applies to all its subcommands."""
    acl_set_selector_command_bit(s, c, allow)
    s.firstargs.pop(c, None)
    if c.subcommands:
        for sc in c.subcommands.values():
            acl_set_selector_command_bit(s, sc, allow)


def _set_category_logic(table, s: AclSelector, cat: str, value: bool) -> None:
    """ACLSetSelectorCommandBitsForCategoryLogic."""
    for c in table:
        if c.flags & CMD_MODULE:
            continue
        if cat in c.acl_categories:
            acl_change_selector_perm(s, c, value)
        if c.subcommands:
            _set_category_logic(c.subcommands.values(), s, cat, value)


def acl_set_selector_command_bits_for_category(s: AclSelector, cat: str, value: bool) -> bool:
    """ACLSetSelectorCommandBitsForCategory: False for an unknown category."""
    cat = cat.lower()
    if cat not in ACL_CATEGORIES:
        return False
    _set_category_logic(commands.values(), s, cat, value)
    return True


def _set_all(s: AclSelector, value: bool) -> None:
    acl_sync_command_table()
    s.allowed = set(_all_commands()) if value else set()
    s.future = value
    s.firstargs = {}
    if value:
        s.flags |= SELECTOR_FLAG_ALLCOMMANDS
    else:
        s.flags &= ~SELECTOR_FLAG_ALLCOMMANDS


def acl_set_selector(s: AclSelector, op: bytes) -> None:
    """ACLSetSelector: apply one command/key/channel rule; raises AclSetError."""
    low = op.lower()
    if low in (b"allkeys", b"~*"):
        s.flags |= SELECTOR_FLAG_ALLKEYS
        s.patterns = []
    elif low == b"resetkeys":
        s.flags &= ~SELECTOR_FLAG_ALLKEYS
        s.patterns = []
    elif low in (b"allchannels", b"&*"):
        s.flags |= SELECTOR_FLAG_ALLCHANNELS
        s.channels = []
    elif low == b"resetchannels":
        s.flags &= ~SELECTOR_FLAG_ALLCHANNELS
        s.channels = []
    elif low in (b"allcommands", b"+@all"):
        _set_all(s, True)
    elif low in (b"nocommands", b"-@all"):
        _set_all(s, False)
    elif op[:1] in (b"~", b"%"):
        if s.flags & SELECTOR_FLAG_ALLKEYS:
            raise AclSetError(_E_EXIST)
        flags = 0
        offset = 1
        if op[:1] == b"%":
            n = len(op)
            while offset < n:
                ch = op[offset:offset + 1]
                if ch.upper() == b"R" and not flags & ACL_READ_PERMISSION:
                    flags |= ACL_READ_PERMISSION
                elif ch.upper() == b"W" and not flags & ACL_WRITE_PERMISSION:
                    flags |= ACL_WRITE_PERMISSION
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise AclSetError(_E_INVAL)
                offset += 1
        else:
            flags = ACL_ALL_PERMISSION
        pat = op[offset:]
        if acl_string_has_spaces(pat):
            raise AclSetError(_E_INVAL)
        for p in s.patterns:
            if p.pattern == pat:
                p.flags |= flags
                break
        else:
            s.patterns.append(KeyPattern(pat, flags))
        s.flags &= ~SELECTOR_FLAG_ALLKEYS
    elif op[:1] == b"&":
        if s.flags & SELECTOR_FLAG_ALLCHANNELS:
            raise AclSetError(_E_ISDIR)
        pat = op[1:]
        if acl_string_has_spaces(pat):
            raise AclSetError(_E_INVAL)
        if pat not in s.channels:
            s.channels.append(pat)
        s.flags &= ~SELECTOR_FLAG_ALLCHANNELS
    elif op[:1] == b"+" and op[1:2] != b"@":
        if b"|" not in op:
            c = acl_lookup_command(op[1:])
            if c is None:
                raise AclSetError(_E_NOENT)
            acl_change_selector_perm(s, c, True)
            return
        name, _, first = op[1:].rpartition(b"|")
        c = acl_lookup_command(name)
        if c is None:
            raise AclSetError(_E_NOENT)
        if c.parent is not None:
            raise AclSetError(_E_CHILD)
        if not first:
            raise AclSetError(_E_INVAL)
        if c.subcommands:
            c = acl_lookup_command(op[1:])
            if c is None:
                raise AclSetError(_E_NOENT)
            acl_change_selector_perm(s, c, True)
        else:
            # The deprecated "first-arg" form (+select|0): argv[1] must equal it.
            lst = s.firstargs.setdefault(c, [])
            if not any(x.lower() == first.lower() for x in lst):
                lst.append(first)
    elif op[:1] == b"-" and op[1:2] != b"@":
        c = acl_lookup_command(op[1:])
        if c is None:
            raise AclSetError(_E_NOENT)
        acl_change_selector_perm(s, c, False)
    elif op[:2] in (b"+@", b"-@"):
        if not acl_set_selector_command_bits_for_category(s, _s(op[2:]), op[:1] == b"+"):
            raise AclSetError(_E_NOENT)
    else:
        raise AclSetError(_E_INVAL)


# --------------------------------------------------------------------------------------------
# Describing users (ACL LIST, ACL GETUSER)
# --------------------------------------------------------------------------------------------

def _count_category(s: AclSelector, cat: str) -> tuple[int, int]:
    """ACLCountCategoryBitsForSelector: (allowed, denied) rows of the category."""
    members = _category_members(cat)
    allowed = s.allowed
    on = sum(1 for c in members if c in allowed)
    return on, len(members) - on


def _describe_single_commands(s: AclSelector, fake: AclSelector, table, out: list) -> None:
    """ACLDescribeSelectorCommandRulesSingleCommands: fix the remaining differences one
    command at a time, applying each emitted rule to the fake selector too."""
    for c in table:
        userbit = c in s.allowed
        if userbit != (c in fake.allowed):
            out.append(("+" if userbit else "-") + c.fullname)
            acl_change_selector_perm(fake, c, userbit)
        if c.subcommands:
            _describe_single_commands(s, fake, c.subcommands.values(), out)
        if not userbit and c in s.firstargs:
            for first in s.firstargs[c]:
                out.append("+%s|%s" % (c.fullname, _s(first)))


def acl_describe_selector_command_rules(s: AclSelector) -> str:
    """ACLDescribeSelectorCommandRules: start from +@all or -@all, then greedily apply the
    category that best fits what is left, then single commands.  Every emitted rule is also
    applied to a fake selector, so the result provably rebuilds the same command set."""
    fake = AclSelector()
    additive = not s.future
    out = ["-@all" if additive else "+@all"]
    _set_all(fake, not additive)
    temp = AclSelector()
    temp.allowed = set(s.allowed)
    applied: set[str] = set()
    while True:
        best = None
        mindiff = 1 << 31
        maxsame = 0
        for cat in ACL_CATEGORIES:
            if cat in applied:
                continue
            on, off = _count_category(temp, cat)
            diff, same = (off, on) if additive else (on, off)
            if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                best, mindiff, maxsame = cat, diff, same
        if best is None:
            break
        _set_category_logic(commands.values(), fake, best, additive)
        _set_category_logic(commands.values(), temp, best, not additive)
        out.append(("+@" if additive else "-@") + best)
        applied.add(best)
    _describe_single_commands(s, fake, [c for c in commands.values()
                                        if not c.flags & CMD_MODULE], out)
    return " ".join(out)


def acl_describe_selector(s: AclSelector) -> str:
    """ACLDescribeSelector: keys, channels, then the command rules."""
    parts = []
    if s.flags & SELECTOR_FLAG_ALLKEYS:
        parts.append("~*")
    else:
        parts.extend(_s(p.describe()) for p in s.patterns)
    if s.flags & SELECTOR_FLAG_ALLCHANNELS:
        parts.append("&*")
    else:
        parts.append("resetchannels")
        parts.extend("&" + _s(ch) for ch in s.channels)
    parts.append(acl_describe_selector_command_rules(s))
    return " ".join(parts)


def acl_describe_user(u: User) -> str:
    """ACLDescribeUser: flags, password hashes, then the root selector (cached until the
    next change, like u->acl_string)."""
    if u.acl_string is not None:
        return u.acl_string
    parts = [name for name, flag in ACL_USER_FLAGS if u.flags & flag]
    parts.extend("#" + p for p in u.passwords)
    parts.append(acl_describe_selector(u.selectors[0]))
    u.acl_string = " ".join(parts) + "".join(
        " (%s)" % acl_describe_selector(s) for s in u.selectors[1:])
    return u.acl_string


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------

class User:
    """user (server.h): name, flags, password hashes and selectors (root first)."""

    __slots__ = ("name", "flags", "passwords", "selectors", "acl_string")

    def __init__(self, name: str) -> None:
        self.name = name
        self.flags = USER_FLAG_DISABLED
        self.passwords: list[str] = []
        self.selectors = [AclSelector(SELECTOR_FLAG_ROOT)]
        self.acl_string: str | None = None

    def __str__(self) -> str:
        return self.name

    def copy_from(self, src: User) -> None:
        """ACLCopyUser (the name stays)."""
        self.flags = src.flags
        self.passwords = list(src.passwords)
        self.selectors = [s.copy() for s in src.selectors]
        self.acl_string = None

    def unrestricted(self) -> bool:
        root = self.selectors[0]
        return root.flags & _UNRESTRICTED == _UNRESTRICTED


# Users (the rax) and DefaultUser.
users: dict[str, User] = {}
default_user: User | None = None
acl_log: list[AclLogEntry] = []


def acl_get_user_by_name(name: bytes | str) -> User | None:
    """ACLGetUserByName."""
    return users.get(name if isinstance(name, str) else _s(name))


def acl_create_user(name: str) -> User | None:
    """ACLCreateUser: None if the name is taken."""
    if name in users:
        return None
    u = User(name)
    users[name] = u
    return u


def acl_set_user(u: User, op: bytes) -> None:
    """ACLSetUser: apply one rule to the user; raises AclSetError."""
    u.acl_string = None
    if not op:
        return
    low = op.lower()
    if low == b"on":
        u.flags = (u.flags | USER_FLAG_ENABLED) & ~USER_FLAG_DISABLED
    elif low == b"off":
        u.flags = (u.flags | USER_FLAG_DISABLED) & ~USER_FLAG_ENABLED
    elif low == b"skip-sanitize-payload":
        u.flags = (u.flags | USER_FLAG_SANITIZE_PAYLOAD_SKIP) & ~USER_FLAG_SANITIZE_PAYLOAD
    elif low == b"sanitize-payload":
        u.flags = (u.flags | USER_FLAG_SANITIZE_PAYLOAD) & ~USER_FLAG_SANITIZE_PAYLOAD_SKIP
    elif low == b"nopass":
        u.flags |= USER_FLAG_NOPASS
        u.passwords = []
    elif low == b"resetpass":
        u.flags &= ~USER_FLAG_NOPASS
        u.passwords = []
    elif op[:1] in (b">", b"#"):
        if op[:1] == b">":
            newpass = acl_hash_password(op[1:])
        else:
            if not acl_check_password_hash(op[1:]):
                raise AclSetError(_E_BADMSG)
            newpass = _s(op[1:])
        if newpass not in u.passwords:
            u.passwords.append(newpass)
        u.flags &= ~USER_FLAG_NOPASS
    elif op[:1] in (b"<", b"!"):
        if op[:1] == b"<":
            delpass = acl_hash_password(op[1:])
        else:
            if not acl_check_password_hash(op[1:]):
                raise AclSetError(_E_BADMSG)
            delpass = _s(op[1:])
        if delpass not in u.passwords:
            raise AclSetError(_E_NODEV)
        u.passwords.remove(delpass)
    elif op[:1] == b"(" and op[-1:] == b")":
        u.selectors.append(acl_create_selector_from_op_set(op))
    elif low == b"clearselectors":
        del u.selectors[1:]
    elif low == b"reset":
        for step in (b"resetpass", b"resetkeys", b"resetchannels"):
            acl_set_user(u, step)
        if _pubsub_default_all():
            acl_set_user(u, b"allchannels")
        for step in (b"off", b"sanitize-payload", b"-@all"):
            acl_set_user(u, step)
        del u.selectors[1:]
    else:
        acl_set_selector(u.selectors[0], op)


def acl_create_selector_from_op_set(opset: bytes) -> AclSelector:
    """aclCreateSelectorFromOpSet: "(~key* +get)" -> a new (non-root) selector."""
    from tracered.resp import split_args

    s = AclSelector(0)
    for op in split_args(opset[1:-1]) or []:
        acl_set_selector(s, op)
    return s


def acl_merge_selector_arguments(argv: list[bytes]) -> list[bytes] | int:
    """ACLMergeSelectorArguments: join "(~a" "+get)" back into one "(~a +get)" rule.
    Returns the merged rules, or the index of an unclosed "(" rule."""
    out: list[bytes] = []
    start = -1
    sel = b""
    for j, op in enumerate(argv):
        if op[:1] == b"(" and op[-1:] != b")":
            sel, start = op, j
            continue
        if start != -1:
            sel += b" " + op
            if op[-1:] == b")":
                start = -1
                out.append(sel)
            continue
        out.append(op)
    return start if start != -1 else out


def acl_string_set_user(u: User | None, username: str, ops: list[bytes]) -> str | None:
    """ACLStringSetUser: apply all rules to a copy, and only if every one is valid copy the
    result into the (possibly new) user.  Returns an error text or None."""
    merged = acl_merge_selector_arguments(ops)
    if isinstance(merged, int):
        return "Unmatched parenthesis in acl selector starting at '%s'." % _s(ops[merged])
    ops = merged
    tempu = User("")
    if u is not None:
        tempu.copy_from(u)
    for op in ops:
        try:
            acl_set_user(tempu, op)
        except AclSetError as e:
            return "Error in ACL SETUSER modifier '%s': %s" % (_s(op), e.args[0])
    if u is not None:
        acl_kill_pubsub_clients_if_needed(tempu, u)
    else:
        u = acl_create_user(username)
    u.copy_from(tempu)
    _users_changed()
    return None


def acl_create_default_user() -> User:
    """ACLCreateDefaultUser: everything allowed, no password."""
    u = acl_create_user("default")
    for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
        acl_set_user(u, op)
    return u


def acl_free_user_and_kill_clients(u: User) -> None:
    """ACLFreeUserAndKillClients: its connections fall back to an unauthenticated default
    user and are closed (the current one after its reply)."""
    for c in list(server.clients.values()):
        if c.user == u.name:
            c.user = "default"
            c.authenticated = False
            if c is server.current_client:
                c.flags |= net.CLIENT_CLOSE_AFTER_REPLY
            else:
                net.free_client_async(c)


def acl_kill_pubsub_clients_if_needed(new: User, original: User) -> None:
    """ACLKillPubsubClientsIfNeeded: when a user loses channel permissions, disconnect its
    subscribers whose subscriptions the new rules no longer allow."""
    if any(s.flags & SELECTOR_FLAG_ALLCHANNELS for s in new.selectors):
        return
    upcoming = [ch for s in new.selectors for ch in s.channels]
    match = True
    for s in original.selectors:
        if s.flags & SELECTOR_FLAG_ALLCHANNELS or any(ch not in upcoming for ch in s.channels):
            match = False
            break
    if match:
        return
    for c in list(server.clients.values()):
        if c.user != original.name or net.get_client_type(c) != net.CLIENT_TYPE_PUBSUB:
            continue
        kill = any(_check_channel_against_list(upcoming, p, True) != ACL_OK
                   for p in c.pubsub_patterns)
        if not kill:
            kill = any(_check_channel_against_list(upcoming, ch, False) != ACL_OK
                       for ch in list(c.pubsub_channels) + list(c.pubsubshard_channels))
        if kill:
            net.free_client(c)


def _users_changed() -> None:
    """Install the processCommand hook only while some user is restricted: a server with
    only unrestricted users pays nothing per command."""
    restricted = any(not u.unrestricted() for u in users.values())
    server.acl_check_all_perm = _process_command_acl_check if restricted else None
    d = default_user
    server.default_user_requires_auth = bool(
        d is not None and (not d.flags & USER_FLAG_NOPASS or d.flags & USER_FLAG_DISABLED))


def acl_update_default_user_password(password: bytes | None) -> None:
    """ACLUpdateDefaultUserPassword: what CONFIG SET requirepass does."""
    acl_set_user(default_user, b"resetpass")
    if password:
        acl_set_user(default_user, b">" + password)
    else:
        acl_set_user(default_user, b"nopass")
    _users_changed()


def _apply_requirepass(srv) -> str | None:
    pw = srv.requirepass
    acl_update_default_user_password(_b(pw) if pw else None)
    return None


# --------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------

def acl_check_user_credentials(username: bytes, password: bytes) -> bool:
    """ACLCheckUserCredentials: enabled, and nopass or one stored hash matches."""
    u = acl_get_user_by_name(username)
    if u is None or u.flags & USER_FLAG_DISABLED:
        return False
    if u.flags & USER_FLAG_NOPASS:
        return True
    hashed = acl_hash_password(password)
    # Compare every hash in constant time, like time_independent_strcmp.
    return any(hmac.compare_digest(hashed, p) for p in u.passwords)


def acl_authenticate_user(c: net.Client, username: bytes, password: bytes) -> bool:
    """ACLAuthenticateUser: bind the client to the user, or log the failure."""
    if acl_check_user_credentials(username, password):
        c.authenticated = True
        c.user = _s(username)
        return True
    add_acl_log_entry(c, ACL_DENIED_AUTH, _log_context(c), 0, _s(username), None)
    return False


def default_user_nopass() -> bool:
    return bool(default_user.flags & USER_FLAG_NOPASS)


# --------------------------------------------------------------------------------------------
# Permission checks
# --------------------------------------------------------------------------------------------

# getChannelsFromCommand's table: command -> (first arg, last arg (-1 = all), kind).
_CHANNEL_PUBLISH, _CHANNEL_SUBSCRIBE, _CHANNEL_PATTERN = 1, 2, 4
_CHANNEL_COMMANDS = {
    "publish": (1, 1, _CHANNEL_PUBLISH), "spublish": (1, 1, _CHANNEL_PUBLISH),
    "subscribe": (1, -1, _CHANNEL_SUBSCRIBE), "ssubscribe": (1, -1, _CHANNEL_SUBSCRIBE),
    "psubscribe": (1, -1, _CHANNEL_SUBSCRIBE | _CHANNEL_PATTERN),
}

_key_specs_fn = None


def _set_get_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """setGetKeys: SET only reads its key with the GET option."""
    if any(a.lower() == b"get" for a in argv[3:]):
        return [(1, ["RW", "access", "update"])]
    return [(1, ["OW", "update"])]


def _bitfield_get_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """bitfieldGetKeys: a BITFIELD of only GET / OVERFLOW sub-operations just reads."""
    readonly = True
    i, argc = 2, len(argv)
    while i < argc:
        rem = argc - i - 1
        op = argv[i].lower()
        if op == b"get" and rem >= 2:
            i += 3
        elif op in (b"set", b"incrby") and rem >= 3:
            readonly = False
            break
        elif op == b"overflow" and rem >= 1:
            i += 2
        else:
            readonly = False
            break
    return [(1, ["RO", "access"] if readonly else ["RW", "access", "update"])]


# The VARIABLE_FLAGS commands: their key flags depend on the arguments.
# Divergence: these belong with the key-spec code (command_cmd.py), which for now reports
# the static spec flags; ACL needs the real ones (SET without GET needs no read access).
_VARIABLE_FLAG_KEYS = {"set": _set_get_keys, "bitfield": _bitfield_get_keys}


def _get_keys(c, argv: list[bytes]) -> list[tuple[int, list[str]]]:
    global _key_specs_fn
    fn = _VARIABLE_FLAG_KEYS.get(c.fullname)
    if fn is not None:
        return fn(argv)
    if _key_specs_fn is None:
        from tracered.command_cmd import get_keys_from_command_with_specs

        _key_specs_fn = get_keys_from_command_with_specs
    return _key_specs_fn(c, argv)


def _key_perm_flags(spec_flags: list[str]) -> int:
    """Key-spec flags to ACL permissions: ACCESS reads, INSERT/DELETE/UPDATE write."""
    f = 0
    for x in spec_flags:
        x = x.lower()
        if x == "access":
            f |= ACL_READ_PERMISSION
        elif x in ("insert", "delete", "update"):
            f |= ACL_WRITE_PERMISSION
    return f


def _selector_check_key(s: AclSelector, key: bytes, key_flags: int) -> int:
    """ACLSelectorCheckKey."""
    if s.flags & SELECTOR_FLAG_ALLKEYS:
        return ACL_OK
    from tracered.util import string_match_len

    for p in s.patterns:
        if p.flags & key_flags != key_flags:
            continue
        if string_match_len(p.pattern, key):
            return ACL_OK
    return ACL_DENIED_KEY


def _check_channel_against_list(patterns: list[bytes], channel: bytes, is_pattern: bool) -> int:
    """ACLCheckChannelAgainstList: a pattern subscription needs the identical pattern."""
    from tracered.util import string_match_len

    for p in patterns:
        if (is_pattern and p == channel) or (not is_pattern and string_match_len(p, channel)):
            return ACL_OK
    return ACL_DENIED_CHANNEL


def _selector_check_cmd(s: AclSelector, c, argv: list[bytes], keys_cache: list) -> tuple[int, int]:
    """ACLSelectorCheckCmd: (result, argv index of the offending key/channel)."""
    if not s.flags & SELECTOR_FLAG_ALLCOMMANDS and not c.flags & CMD_NO_AUTH:
        if c not in s.allowed:
            firsts = s.firstargs.get(c)
            if len(argv) < 2 or not firsts:
                return ACL_DENIED_CMD, 0
            idx = 2 if c.parent is not None else 1
            if idx >= len(argv) or not any(f.lower() == argv[idx].lower() for f in firsts):
                return ACL_DENIED_CMD, 0
    if not s.flags & SELECTOR_FLAG_ALLKEYS and (c.key_specs or c.getkeys_proc is not None):
        if not keys_cache:
            keys_cache.append(_get_keys(c, argv))
        for pos, flags in keys_cache[0]:
            if _selector_check_key(s, argv[pos], _key_perm_flags(flags)) != ACL_OK:
                return ACL_DENIED_KEY, pos
    if not s.flags & SELECTOR_FLAG_ALLCHANNELS:
        spec = _CHANNEL_COMMANDS.get(c.fullname)
        if spec is not None:
            first, last, kind = spec
            last = len(argv) - 1 if last < 0 else min(last, len(argv) - 1)
            for pos in range(first, last + 1):
                if _check_channel_against_list(s.channels, argv[pos],
                                               bool(kind & _CHANNEL_PATTERN)) != ACL_OK:
                    return ACL_DENIED_CHANNEL, pos
    return ACL_OK, 0


def acl_check_all_user_command_perm(u: User | str | None, c,
                                    argv: list[bytes]) -> tuple[int, int]:
    """ACLCheckAllUserCommandPerm: OK if any selector allows the call, else the most
    relevant refusal (highest kind, then latest argument) and its argv index."""
    if isinstance(u, str):
        u = users.get(u)
    if u is None:
        return ACL_OK, 0
    relevant, last_idx = ACL_DENIED_CMD, 0
    cache: list = []
    for s in u.selectors:
        res, idx = _selector_check_cmd(s, c, argv, cache)
        if res == ACL_OK:
            return ACL_OK, 0
        if res > relevant or (res == relevant and idx > last_idx):
            relevant, last_idx = res, idx
    return relevant, last_idx


def acl_user_check_key_perm(u: User | str | None, key: bytes, flags: int) -> int:
    """ACLUserCheckKeyPerm (flags are ACL_*_PERMISSION bits)."""
    if isinstance(u, str):
        u = users.get(u)
    if u is None:
        return ACL_OK
    for s in u.selectors:
        if _selector_check_key(s, key, flags) == ACL_OK:
            return ACL_OK
    return ACL_DENIED_KEY


def acl_user_check_channel_perm(u: User | str | None, channel: bytes, is_pattern: bool) -> int:
    """ACLUserCheckChannelPerm."""
    if isinstance(u, str):
        u = users.get(u)
    if u is None:
        return ACL_OK
    for s in u.selectors:
        if s.flags & SELECTOR_FLAG_ALLCHANNELS:
            return ACL_OK
        if _check_channel_against_list(s.channels, channel, is_pattern) == ACL_OK:
            return ACL_OK
    return ACL_DENIED_CHANNEL


def acl_user_check_cmd_with_unrestricted_key_access(u: User | str | None, c,
                                                    argv: list[bytes],
                                                    flags: int = ACL_READ_PERMISSION) -> bool:
    """ACLUserCheckCmdWithUnrestrictedKeyAccess (SORT BY/GET): some selector allows the
    command and grants ``*`` (or allkeys) with the needed permissions.  ``flags`` are
    ACL_*_PERMISSION bits; the default is what SORT asks for (CMD_KEY_ACCESS: read)."""
    if isinstance(u, str):
        u = users.get(u)
    if u is None:
        return True
    cache: list = []
    for s in u.selectors:
        if _selector_check_cmd(s, c, argv, cache)[0] != ACL_OK:
            continue
        if s.flags & SELECTOR_FLAG_ALLKEYS:
            return True
        if any(p.flags & flags == flags and p.pattern == b"*" for p in s.patterns):
            return True
    return False


def _log_context(c: net.Client) -> int:
    return ACL_LOG_CTX_MULTI if c.flags & net.CLIENT_MULTI else ACL_LOG_CTX_TOPLEVEL


def acl_check_all_perm(c: net.Client) -> tuple[int, int]:
    """ACLCheckAllPerm: (result, position of the refused argument) of the client's user
    against its current command; what EXEC and scripts ask before each command."""
    u = users.get(c.user)
    if u is None or u.selectors[0].flags & _UNRESTRICTED == _UNRESTRICTED:
        return ACL_OK, -1
    return acl_check_all_user_command_perm(u, c.cmd, c.argv)


_EXEC_REASONS = {ACL_DENIED_CMD: "no permission to execute the command or subcommand",
                 ACL_DENIED_KEY: "no permission to touch the specified keys",
                 ACL_DENIED_CHANNEL: "no permission to access one of the channels used as "
                                     "arguments"}


def exec_acl_check(c: net.Client) -> bool:
    """execCommand's re-check of a queued command (the rules may have changed since it was
    queued): False after replying -NOPERM in its place."""
    res, pos = acl_check_all_perm(c)
    if res == ACL_OK:
        return True
    add_acl_log_entry(c, res, ACL_LOG_CTX_MULTI, pos, None, None)
    net.add_reply_error(c, "-NOPERM ACLs rules changed between the moment the transaction was "
                           "accumulated and the EXEC call. This command is no longer allowed "
                           "for the following reason: %s"
                        % _EXEC_REASONS.get(res, "no permission"))
    return False


def script_verify_acl(c: net.Client) -> str | None:
    """scriptVerifyACL: the error text for redis.call, or None when allowed."""
    res, pos = acl_check_all_perm(c)
    if res == ACL_OK:
        return None
    add_acl_log_entry(c, res, ACL_LOG_CTX_LUA, pos, None, None)
    return "The user executing the script %s" % get_acl_error_message(res)


def _process_command_acl_check(c: net.Client) -> bool:
    """processCommand's ACLCheckAllPerm step: False after replying -NOPERM."""
    u = users.get(c.user)
    if u is None or u.selectors[0].flags & _UNRESTRICTED == _UNRESTRICTED:
        return True
    res, idx = acl_check_all_user_command_perm(u, c.cmd, c.argv)
    if res == ACL_OK:
        return True
    from tracered.server import reject_command_format

    add_acl_log_entry(c, res, _log_context(c), idx, None, None)
    if res == ACL_DENIED_CMD:
        msg = "-NOPERM this user has no permissions to run the '%s' command" % c.cmd.fullname
    elif res == ACL_DENIED_KEY:
        msg = "-NOPERM this user has no permissions to access one of the keys used as arguments"
    elif res == ACL_DENIED_CHANNEL:
        msg = ("-NOPERM this user has no permissions to access one of the channels used as "
               "arguments")
    else:
        msg = "no permission"
    reject_command_format(c, msg)
    return False


def get_acl_error_message(res: int) -> str:
    """getAclErrorMessage (what scripts and modules report)."""
    return {ACL_DENIED_CMD: "can't run this command or subcommand",
            ACL_DENIED_KEY: "can't access at least one of the keys mentioned in the command "
                            "arguments",
            ACL_DENIED_CHANNEL: "can't publish to the channel mentioned in the command"}.get(
        res, "lacking the permissions for the command")


# --------------------------------------------------------------------------------------------
# ACL LOG
# --------------------------------------------------------------------------------------------

class AclLogEntry:
    """ACLLogEntry: one (possibly repeated) refusal."""

    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo")

    def __init__(self, reason: int, context: int, obj: bytes, username: str, cinfo: str):
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime = int(time.time() * 1000)
        self.cinfo = cinfo

    def matches(self, o: AclLogEntry) -> bool:
        """ACLLogMatchEntry: same refusal within a minute is counted, not repeated."""
        return (self.reason == o.reason and self.context == o.context and
                abs(self.ctime - o.ctime) <= ACL_LOG_GROUPING_MAX_TIME_DELTA and
                self.object == o.object and self.username == o.username)


def add_acl_log_entry(c: net.Client, reason: int, context: int, argpos: int,
                      username: str | None, obj: bytes | None) -> None:
    """addACLLogEntry: newest first; a match among the 10 newest is bumped instead."""
    if obj is None:
        if reason == ACL_DENIED_CMD:
            obj = c.cmd.fullname.encode()
        elif reason in (ACL_DENIED_KEY, ACL_DENIED_CHANNEL):
            obj = c.argv[argpos]
        elif reason == ACL_DENIED_AUTH:
            obj = c.argv[0]
        else:
            obj = b""
    le = AclLogEntry(reason, context, obj, username if username is not None else c.user,
                     net.cat_client_info_string(c))
    for i, cur in enumerate(acl_log[:10]):
        if cur.matches(le):
            del acl_log[i]
            acl_log.insert(0, cur)
            cur.cinfo = le.cinfo
            cur.ctime = le.ctime
            cur.count += 1
            return
    acl_log.insert(0, le)
    del acl_log[server.acllog_max_len:]


# --------------------------------------------------------------------------------------------
# The ACL command
# --------------------------------------------------------------------------------------------

def acl_setuser_command(c: net.Client) -> None:
    argv = c.argv
    for j in range(2, len(argv)):
        net.redact_client_command_argument(c, j)
    username = argv[2]
    if acl_string_has_spaces(username):
        net.add_reply_error(c, "Usernames can't contain spaces or null characters")
        return
    ops = list(argv[3:])
    err = acl_string_set_user(acl_get_user_by_name(username), _s(username), ops)
    if err is None:
        net.add_reply(c, shared.ok)
    else:
        net.add_reply_error(c, err.replace("\r", " ").replace("\n", " "))


def acl_deluser_command(c: net.Client) -> None:
    names = [_s(a) for a in c.argv[2:]]
    if "default" in names:
        net.add_reply_error(c, "The 'default' user cannot be removed")
        return
    deleted = 0
    for name in names:
        u = users.pop(name, None)
        if u is not None:
            acl_free_user_and_kill_clients(u)
            deleted += 1
    _users_changed()
    net.add_reply_long_long(c, deleted)


def _reply_selector_description(c: net.Client, s: AclSelector) -> None:
    """aclAddReplySelectorDescription: commands, keys, channels."""
    net.add_reply_bulk(c, b"commands")
    net.add_reply_bulk(c, acl_describe_selector_command_rules(s).encode())
    net.add_reply_bulk(c, b"keys")
    if s.flags & SELECTOR_FLAG_ALLKEYS:
        net.add_reply_bulk(c, b"~*")
    else:
        net.add_reply_bulk(c, b" ".join(p.describe() for p in s.patterns))
    net.add_reply_bulk(c, b"channels")
    if s.flags & SELECTOR_FLAG_ALLCHANNELS:
        net.add_reply_bulk(c, b"&*")
    else:
        net.add_reply_bulk(c, b" ".join(b"&" + ch for ch in s.channels))


def acl_getuser_command(c: net.Client) -> None:
    u = acl_get_user_by_name(c.argv[2])
    if u is None:
        net.add_reply_null(c)
        return
    net.add_reply_map_len(c, 6)
    net.add_reply_bulk(c, b"flags")
    flags = [name.encode() for name, flag in ACL_USER_FLAGS if u.flags & flag]
    net.add_reply_set_len(c, len(flags))
    for f in flags:
        net.add_reply_bulk(c, f)
    net.add_reply_bulk(c, b"passwords")
    net.add_reply_array_len(c, len(u.passwords))
    for p in u.passwords:
        net.add_reply_bulk(c, p.encode())
    _reply_selector_description(c, u.selectors[0])
    net.add_reply_bulk(c, b"selectors")
    net.add_reply_array_len(c, len(u.selectors) - 1)
    for s in u.selectors[1:]:
        net.add_reply_map_len(c, 3)
        _reply_selector_description(c, s)


def _sorted_users() -> list[User]:
    """The rax walk: users in byte order of their names."""
    return [users[k] for k in sorted(users, key=_b)]


def acl_users_command(c: net.Client) -> None:
    net.add_reply_bulk_array(c, [_b(u.name) for u in _sorted_users()])


def acl_list_command(c: net.Client) -> None:
    net.add_reply_bulk_array(c, [_b("user %s %s" % (u.name, acl_describe_user(u)))
                                 for u in _sorted_users()])


def acl_whoami_command(c: net.Client) -> None:
    net.add_reply_bulk(c, _b(str(c.user)))


def acl_load_save_command(c: net.Client) -> None:
    if not server.aclfile:
        net.add_reply_error(c, "This Redis instance is not configured to use an ACL file. You "
                               "may want to specify users via the ACL SETUSER command and then "
                               "issue a CONFIG REWRITE (assuming you have a Redis "
                               "configuration file set) in order to store users in the Redis "
                               "configuration.")
        return
    # Divergence: no aclfile support (see the module docstring).
    net.add_reply_error(c, "ACL LOAD/SAVE with an aclfile is not supported by tracered")


def acl_cat_command(c: net.Client) -> None:
    if len(c.argv) == 2:
        net.add_reply_bulk_array(c, [x.encode() for x in ACL_CATEGORIES])
        return
    cat = _s(c.argv[2]).lower()
    if cat not in ACL_CATEGORIES:
        net.add_reply_error(c, "Unknown category '%s'" % _s(c.argv[2][:128]))
        return
    net.add_reply_bulk_array(c, [x.fullname.encode() for x in _category_members(cat)])


def acl_genpass_command(c: net.Client) -> None:
    bits = 256
    if len(c.argv) == 3:
        from tracered.object import parse_long_long

        v = parse_long_long(c.argv[2])
        if v is None:
            net.add_reply_error(c, shared.NOT_INTEGER)
            return
        bits = v
    if bits <= 0 or bits > GENPASS_MAX_BITS:
        net.add_reply_error(c, "ACL GENPASS argument must be the number of bits for the output "
                               "password, a positive number up to %d" % GENPASS_MAX_BITS)
        return
    chars = (bits + 3) // 4
    net.add_reply_bulk(c, os.urandom((chars + 1) // 2).hex()[:chars].encode())


_REASONS = {ACL_DENIED_CMD: b"command", ACL_DENIED_KEY: b"key", ACL_DENIED_CHANNEL: b"channel",
            ACL_DENIED_AUTH: b"auth"}
_CONTEXTS = {ACL_LOG_CTX_TOPLEVEL: b"toplevel", ACL_LOG_CTX_MULTI: b"multi",
             ACL_LOG_CTX_LUA: b"lua", ACL_LOG_CTX_MODULE: b"module"}


def acl_log_command(c: net.Client) -> None:
    count = 10
    if len(c.argv) == 3:
        if c.argv[2].lower() == b"reset":
            acl_log.clear()
            net.add_reply(c, shared.ok)
            return
        from tracered.object import parse_long_long

        v = parse_long_long(c.argv[2])
        if v is None:
            net.add_reply_error(c, shared.NOT_INTEGER)
            return
        count = max(v, 0)
    entries = acl_log[:count]
    now = int(time.time() * 1000)
    net.add_reply_array_len(c, len(entries))
    for le in entries:
        net.add_reply_map_len(c, 7)
        net.add_reply_bulk(c, b"count")
        net.add_reply_long_long(c, le.count)
        net.add_reply_bulk(c, b"reason")
        net.add_reply_bulk(c, _REASONS.get(le.reason, b"unknown"))
        net.add_reply_bulk(c, b"context")
        net.add_reply_bulk(c, _CONTEXTS.get(le.context, b"unknown"))
        net.add_reply_bulk(c, b"object")
        net.add_reply_bulk(c, le.object)
        net.add_reply_bulk(c, b"username")
        net.add_reply_bulk(c, _b(le.username))
        net.add_reply_bulk(c, b"age-seconds")
        net.add_reply_double(c, (now - le.ctime) / 1000)
        net.add_reply_bulk(c, b"client-info")
        net.add_reply_bulk(c, le.cinfo.encode())


def acl_dryrun_command(c: net.Client) -> None:
    from tracered.server import lookup_command

    argv = c.argv
    u = acl_get_user_by_name(argv[2])
    if u is None:
        net.add_reply_error(c, "User '%s' not found" % _s(argv[2]))
        return
    target = lookup_command(argv[3:])
    if target is None:
        net.add_reply_error(c, "Command '%s' not found" % _s(argv[3]))
        return
    n = len(argv) - 3
    if (target.arity > 0 and target.arity != n) or n < -target.arity:
        net.add_reply_error(c, "wrong number of arguments for '%s' command" % target.fullname)
        return
    res, idx = acl_check_all_user_command_perm(u, target, argv[3:])
    if res == ACL_OK:
        net.add_reply(c, shared.ok)
    elif res == ACL_DENIED_CMD:
        net.add_reply_bulk(c, b"This user has no permissions to run the '%s' command"
                           % target.fullname.encode())
    elif res == ACL_DENIED_KEY:
        net.add_reply_bulk(c, b"This user has no permissions to access the '%s' key"
                           % argv[idx + 3])
    else:
        net.add_reply_bulk(c, b"This user has no permissions to access the '%s' channel"
                           % argv[idx + 3])


_ACL_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]


def acl_help_command(c: net.Client) -> None:
    net.add_reply_help(c, _ACL_HELP)


# --------------------------------------------------------------------------------------------
# Startup
# --------------------------------------------------------------------------------------------

def acl_init(srv) -> None:
    """ACLInit + ACLLoadUsersAtStartup: the default user, requirepass, then the queued
    ``user`` lines of redis.conf."""
    global default_user
    users.clear()
    acl_log.clear()
    _cat_members.clear()
    _known_commands.clear()
    default_user = acl_create_default_user()
    if srv.requirepass:
        acl_update_default_user_password(_b(srv.requirepass))
    for args, lineno, _line in getattr(srv, "config_users", []) or []:
        args = [a if isinstance(a, bytes) else _b(a) for a in args]
        name = _s(args[0])
        err = None
        if acl_string_has_spaces(args[0]):
            err = "Usernames can't contain spaces or null characters"
        elif name in users and name != "default":
            err = "Duplicate user found. A user can only be defined once in config files"
        else:
            err = acl_string_set_user(users.get(name), name, args[1:])
        if err:
            srv.log_warning(f"Error in user declaration '{name}' at line {lineno}: {err}")
            raise SystemExit(1)
    srv.config_users = []
    _users_changed()


def rewrite_config_user_option(srv, state) -> None:
    """rewriteConfigUserOption: one ``user`` line per user (none with an aclfile)."""
    from tracered import config

    if not srv.aclfile:
        for u in _sorted_users():
            config.rewrite_config_rewrite_line(
                state, "user", "user %s %s" % (u.name, acl_describe_user(u)), True)
    config.rewrite_config_mark_as_processed(state, "user")


def init(srv) -> None:
    from tracered import config

    acl_init(srv)
    config.apply_hooks["requirepass"].append(_apply_requirepass)
    if rewrite_config_user_option not in config.rewrite_hooks:
        config.rewrite_hooks.append(rewrite_config_user_option)
    srv.startup_hooks.append(lambda _srv: acl_sync_command_table())


# config_cmd.init (which runs first) warns about ignored 'user' lines unless ACL says it
# will load them.
server.acl_loads_config_users = True


_F = "noscript loading stale sentinel"

COMMANDS = [
    cmd("acl", None, -2, "sentinel", group="server", since="6.0.0",
        complexity="Depends on subcommand.",
        summary="A container for Access List Control commands", subcommands=[
            sub("cat", acl_cat_command, -2, _F, since="6.0.0",
                complexity="O(1) since the categories and commands are a fixed set.",
                summary="List the ACL categories or the commands inside a category",
                args="[categoryname]"),
            sub("deluser", acl_deluser_command, -3, "admin " + _F, since="6.0.0",
                complexity="O(1) amortized time considering the typical user.",
                summary="Remove the specified ACL users and the associated rules",
                args="username [username ...]"),
            sub("dryrun", acl_dryrun_command, -4, "admin " + _F, since="7.0.0",
                complexity="O(1).",
                summary="Returns whether the user can execute the given command without "
                        "executing the command.",
                args="username command [arg [arg ...]]"),
            sub("genpass", acl_genpass_command, -2, _F, since="6.0.0", complexity="O(1)",
                summary="Generate a pseudorandom secure password to use for ACL users",
                args="[bits]"),
            sub("getuser", acl_getuser_command, 3, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of password, command and pattern "
                           "rules that the user has.",
                summary="Get the rules for a specific ACL user", args="username"),
            sub("help", acl_help_command, 2, "loading stale sentinel", since="6.0.0",
                complexity="O(1)", summary="Show helpful text about the different subcommands"),
            sub("list", acl_list_command, 2, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of configured users.",
                summary="List the current ACL rules in ACL config file format"),
            sub("load", acl_load_save_command, 2, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of configured users.",
                summary="Reload the ACLs from the configured ACL file"),
            sub("log", acl_log_command, -2, "admin " + _F, since="6.0.0",
                complexity="O(N) with N being the number of entries shown.",
                summary="List latest events denied because of ACLs in place",
                args="[count|RESET]"),
            sub("save", acl_load_save_command, 2, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of configured users.",
                summary="Save the current ACL rules in the configured ACL file"),
            sub("setuser", acl_setuser_command, -3, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of rules provided.",
                summary="Modify or create the rules for a specific ACL user",
                args="username [rule [rule ...]]"),
            sub("users", acl_users_command, 2, "admin " + _F, since="6.0.0",
                complexity="O(N). Where N is the number of configured users.",
                summary="List the username of all the configured ACL rules"),
            sub("whoami", acl_whoami_command, 2, _F, since="6.0.0", complexity="O(1)",
                summary="Return the name of the user associated to the current connection"),
        ]),
]
