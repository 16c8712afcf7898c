"""ORM-side helpers of the jobs: plain classes working on an environment."""
