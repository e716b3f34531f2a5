"""Lockers: turn direct requirements into pinned, hashed lock files (uv, pip-tools, conda)."""

from samepack.lock.base import LOCKER_NAMES, Locker, LockerChoice, choose_locker, get_locker
from samepack.lock.model import CondaSpec, IndexOptions, LockRequest, LockResult, Pin

__all__ = ["LOCKER_NAMES", "CondaSpec", "IndexOptions", "LockRequest", "LockResult", "Locker",
           "LockerChoice", "Pin", "choose_locker", "get_locker"]
