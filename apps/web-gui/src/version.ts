/** web-gui release, reported by /api/health; a test keeps it equal to package.json. */
export const WEB_GUI_VERSION = '0.1.0';
