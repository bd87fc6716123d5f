import mod from './express.cjs';

export const { session } = mod;
export default mod.session;
