-- Ticks of the schedule that came while this pass was still running (SPEC §10): counted on
-- the pass, not stored as passes of their own.
ALTER TABLE passes ADD COLUMN skipped_ticks INTEGER NOT NULL DEFAULT 0;
-- Records of this pass's read dated in the future: sent, but never moving the watermark.
ALTER TABLE passes ADD COLUMN future INTEGER NOT NULL DEFAULT 0;
