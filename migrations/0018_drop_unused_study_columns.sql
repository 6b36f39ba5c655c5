-- Settings nothing read or wrote (the engine takes its warm-up and exploration from bandit/); no index,
-- trigger or view names them, so SQLite drops them in place.
ALTER TABLE `studies` DROP COLUMN `warmup_pairs`;--> statement-breakpoint
ALTER TABLE `studies` DROP COLUMN `exploration_weight`;