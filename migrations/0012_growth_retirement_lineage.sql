CREATE TABLE `growth_rounds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_id` integer NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`count` integer NOT NULL,
	`model` text NOT NULL,
	`parents` text NOT NULL,
	`instruction` text NOT NULL,
	`system` text NOT NULL,
	`error` text,
	`result` text,
	`requested_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `growth_rounds_study_idx` ON `growth_rounds` (`study_id`,`id`);--> statement-breakpoint
ALTER TABLE `prompts` ADD `retired_at` integer;--> statement-breakpoint
ALTER TABLE `prompts` ADD `retirement` text;--> statement-breakpoint
ALTER TABLE `prompts` ADD `kept_by_owner` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `prompts` ADD `generation` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `prompts` ADD `growth_round_id` integer REFERENCES growth_rounds(id);--> statement-breakpoint
ALTER TABLE `studies` ADD `retire_min_comparisons` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `retire_margin` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `pool_cap` integer;