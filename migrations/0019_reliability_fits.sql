CREATE TABLE `reliability_fits` (
	`study_id` integer PRIMARY KEY NOT NULL,
	`last_vote_id` integer NOT NULL,
	`fit` text NOT NULL,
	`fit_ms` real NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
