ALTER TABLE `engine_snapshots` ADD `votes_still_needed` integer;--> statement-breakpoint
ALTER TABLE `engine_snapshots` ADD `left_win_rate` real;